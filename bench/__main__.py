"""Run every benchmark and print its figures: ``python -m bench [name ...] [--latency-ms 0,50]``."""

from __future__ import annotations

import argparse
import importlib

from bench.common import add_latency_option

BENCHMARKS = (
    "cast_latency",
    "fanout",
    "fanout_multi",
    "scale",
    "scale_pg",
    "party_scale",
    "slack_fanout",
    "slack_latency",
    "translation_cost",
)
# The ones that measure answers to members, at each of the fake's network latencies.
LATENCY_BENCHMARKS = ("cast_latency", "party_scale")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run the benchmarks, print their figures.")
    parser.add_argument("names", nargs="*", metavar="name", help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    add_latency_option(parser)
    args = parser.parse_args()
    if unknown := [name for name in args.names if name not in BENCHMARKS]:
        parser.error(f"no benchmark named {', '.join(unknown)}")
    for name in args.names or BENCHMARKS:
        print(f"== {name}")
        benchmark = importlib.import_module(f"bench.{name}")
        if name in LATENCY_BENCHMARKS:
            benchmark.main(args.latency_ms)
        else:
            benchmark.main()
        print()


main()
