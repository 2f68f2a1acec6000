"""Forgetting the servers that removed the bot while it was offline.

A running bot hears of its removal from a server and forgets it at once; a removal during
downtime shows only as a server missing from the list the platform sends when the bot connects.
That list is trusted within a margin, so a truncated list (a platform fault, a shard set up
wrong) never wipes many servers' data: beyond the margin the absent servers are kept, and the
operator decides.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from bot.core.storage import Store

# Up to this many absent servers are forgotten whatever their share...
ALWAYS_FORGOTTEN = 5
# ...beyond it, only when they are at most this share of the servers with data.
MAX_SHARE_FORGOTTEN = 0.25


@dataclass(frozen=True)
class Departures:
    forgotten: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()
    """Absent but kept: more than the margin allows at once (or no server listed at all)."""


def within_margin(absent: int, known: int, present: int) -> bool:
    """Whether forgetting ``absent`` of the ``known`` servers is plausible, with ``present`` listed."""
    if present == 0:
        return False  # an empty list is far likelier an outage than every server leaving
    return absent <= max(ALWAYS_FORGOTTEN, MAX_SHARE_FORGOTTEN * known)


async def forget_absent_guilds(
    store: Store, present: Collection[str], ours: Callable[[str], bool], *, force: bool = False
) -> Departures:
    """Forget the servers with data that are ``ours`` but not ``present``, within the margin.

    ``present``: every server the platform lists for this connection, unavailable ones included
    (a server in an outage is still the bot's). ``ours``: whether this process serves a server
    (with several shards, only those of its own shards are listed to it). ``force`` forgets them
    all, margin or not.
    """
    known = [guild_id for guild_id in await store.guild_ids() if ours(guild_id)]
    absent = tuple(guild_id for guild_id in known if guild_id not in present)
    if not absent:
        return Departures()
    if not force and not within_margin(len(absent), len(known), len(present)):
        return Departures(withheld=absent)
    for guild_id in absent:
        await store.forget_guild(guild_id)
    return Departures(forgotten=absent)
