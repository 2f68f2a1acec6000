"""Garbage-collector settings for a long-running bot process.

Every interaction discord.py parses leaves reference cycles behind (an ``Interaction`` and its
``InteractionResponse``, a clicked message and its components), which only CPython's cyclic
collector frees. With the default settings, cycles still alive during a busy moment are
promoted to the oldest generation, and every full collection then walks every object of the
process, the guild caches included. With 200 interactions at once, such passes took 65–110 ms
each, one every other burst (``python -m bench party_scale``): a stall for every member waiting.

Once the bot is ready, :func:`settle_heap` freezes what start-up built (it lives as long as the
process, so scanning it finds nothing) and enlarges the youngest generation so that an
interaction's garbage is freed young, before it can be promoted.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

YOUNG_GENERATION = 10_000
"""Allocations between collections of the youngest generation (CPython's default: 700)."""


def settle_heap() -> None:
    """Call once per process, when start-up is over: it affects the whole interpreter."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, middle, oldest)
    log.info("start-up heap frozen (%d objects); young generation %d", gc.get_freeze_count(), YOUNG_GENERATION)
