"""``bench scale`` on PostgreSQL: the same 1,000,000 members in 10,000 guilds, the same cases
(start-up memory and time, 10,000 posts due at one instant), with the database on a throwaway
PostgreSQL server (the tests' pgserver) instead of a SQLite file. Compare with ``bench scale``."""

from __future__ import annotations

from bench import scale


def main() -> None:
    scale.main(postgres=True)
