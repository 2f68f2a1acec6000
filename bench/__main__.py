"""Run every benchmark and print its figures: ``python -m bench [name ...]``."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("cast_latency", "fanout", "scale", "party_scale")


def main() -> None:
    for name in sys.argv[1:] or BENCHMARKS:
        print(f"== {name}")
        importlib.import_module(f"bench.{name}").main()
        print()


main()
