"""Settings from the environment and a ``.env`` file (the environment wins).

Every setting is documented in ``.env.example``. Invalid values are a
:class:`SettingsError` naming the variable; secrets never appear in messages or reprs.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from yarl import URL

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILM_FILE = PROJECT_ROOT / "data" / "ballerina.toml"
DEFAULT_DATABASE_PATH = PROJECT_ROOT / "data" / "ballerina.sqlite3"
DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
DEFAULT_SLACK_API_BASE = "https://slack.com/api/"
DEFAULT_SLACK_HOST = "0.0.0.0"
DEFAULT_SLACK_PORT = 3000
DEFAULT_METRICS_HOST = "127.0.0.1"
LOG_FORMATS = ("text", "json")


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable."""


class Secret:
    """A string that never shows itself in logs, reprs or tracebacks."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Settings:
    discord_token: Secret = field(default_factory=lambda: Secret(""))
    discord_api_base: str = DEFAULT_API_BASE
    discord_gateway_url: str = DEFAULT_GATEWAY_URL
    discord_application_id: int | None = None
    database_path: Path = DEFAULT_DATABASE_PATH
    database_url: Secret = field(default_factory=lambda: Secret(""))
    """A ``postgresql://`` URL (it may hold a password): when set, PostgreSQL instead of the file."""
    film_file: Path = DEFAULT_FILM_FILE
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    reminder_grace: timedelta = timedelta(hours=1)
    global_rate_limit: float = 50.0
    """Requests per second for THIS process: ``GLOBAL_RATE_LIMIT / PROCESS_COUNT``, since
    Discord's global limit is per bot, shared by every process that runs it."""
    shard_count: int | None = None
    """Discord shards of the whole bot; None: one process, discord.py asks Discord how many."""
    shard_ids: tuple[int, ...] | None = None
    """The shards this process connects (all of them when None)."""
    forget_absent_servers: bool = False
    slack_bot_token: Secret = field(default_factory=lambda: Secret(""))
    slack_app_token: Secret = field(default_factory=lambda: Secret(""))
    """Socket Mode when set (``xapp-…``); else HTTP mode, verified with the signing secret."""
    slack_signing_secret: Secret = field(default_factory=lambda: Secret(""))
    slack_api_base: str = DEFAULT_SLACK_API_BASE
    slack_host: str = DEFAULT_SLACK_HOST
    slack_port: int = DEFAULT_SLACK_PORT

    @property
    def slack_socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    log_format: str = "text"
    metrics_port: int | None = None
    """None: no health and metrics endpoint; 0: any free port (tests)."""
    metrics_host: str = DEFAULT_METRICS_HOST
    health_max_due_age: timedelta = timedelta(minutes=15)
    delivery: bool = True
    """False (``DELIVERY=off``): this process serves commands but sends no reminders."""
    delivery_lease: timedelta = timedelta(seconds=30)
    """How long a delivery claim holds unless renewed; then another process takes the row over."""
    process_name: str = "main"
    """This process among those sharing the database, kept across restarts: a restart takes
    over its own unfinished deliveries at once. Default: ``shards-<ids>`` with SHARD_IDS."""

    @property
    def database(self) -> str | Path:
        """Where the data lives: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.database_url.reveal() or self.database_path

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
        """Read settings; ``environ`` defaults to ``os.environ`` layered over ``env_file``."""
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)

        def text(name: str) -> str | None:
            value = values.get(name, "").strip()
            return value or None

        return cls(
            discord_token=Secret(text("DISCORD_TOKEN") or ""),
            discord_api_base=_url("DISCORD_API_BASE", text("DISCORD_API_BASE"), DEFAULT_API_BASE, ("http", "https")),
            discord_gateway_url=_url(
                "DISCORD_GATEWAY_URL", text("DISCORD_GATEWAY_URL"), DEFAULT_GATEWAY_URL, ("ws", "wss")
            ),
            discord_application_id=_snowflake("DISCORD_APPLICATION_ID", text("DISCORD_APPLICATION_ID")),
            database_path=Path(text("DATABASE_PATH") or DEFAULT_DATABASE_PATH),
            database_url=_database_url(text("DATABASE_URL")),
            film_file=Path(text("FILM_FILE") or DEFAULT_FILM_FILE),
            dev_guild_id=_snowflake("DEV_GUILD_ID", text("DEV_GUILD_ID")),
            log_level=_log_level(text("LOG_LEVEL") or "INFO"),
            reminder_grace=timedelta(minutes=_number("REMINDER_GRACE_MINUTES", text("REMINDER_GRACE_MINUTES"), 60)),
            global_rate_limit=_number("GLOBAL_RATE_LIMIT", text("GLOBAL_RATE_LIMIT"), 50)
            / _count("PROCESS_COUNT", text("PROCESS_COUNT")),
            **_shards(text("SHARD_COUNT"), text("SHARD_IDS")),
            forget_absent_servers=_flag("FORGET_ABSENT_SERVERS", text("FORGET_ABSENT_SERVERS")),
            slack_bot_token=_slack_token("SLACK_BOT_TOKEN", text("SLACK_BOT_TOKEN"), "xoxb-"),
            slack_app_token=_slack_token("SLACK_APP_TOKEN", text("SLACK_APP_TOKEN"), "xapp-"),
            slack_signing_secret=Secret(text("SLACK_SIGNING_SECRET") or ""),
            slack_api_base=_url("SLACK_API_BASE", text("SLACK_API_BASE"), DEFAULT_SLACK_API_BASE, ("http", "https")),
            slack_host=text("SLACK_HOST") or DEFAULT_SLACK_HOST,
            slack_port=DEFAULT_SLACK_PORT if (port := _port("SLACK_PORT", text("SLACK_PORT"))) is None else port,
            log_format=_choice("LOG_FORMAT", text("LOG_FORMAT") or "text", LOG_FORMATS),
            metrics_port=_port("METRICS_PORT", text("METRICS_PORT")),
            metrics_host=text("METRICS_HOST") or DEFAULT_METRICS_HOST,
            health_max_due_age=timedelta(
                minutes=_number("HEALTH_MAX_DUE_AGE_MINUTES", text("HEALTH_MAX_DUE_AGE_MINUTES"), 15)
            ),
            delivery=_flag("DELIVERY", text("DELIVERY") or "on"),
            delivery_lease=timedelta(seconds=_number("DELIVERY_LEASE_SECONDS", text("DELIVERY_LEASE_SECONDS"), 30)),
            process_name=_process_name(text("PROCESS_NAME"), text("SHARD_IDS")),
        )


def _process_name(value: str | None, shard_ids: str | None) -> str:
    """PROCESS_NAME, else one told apart by the process's shards (``shards-0-1``), else ``main``."""
    if value is None:
        return "shards-" + "-".join(part.strip() for part in shard_ids.split(",")) if shard_ids else "main"
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", value):
        raise SettingsError(f"PROCESS_NAME must be 1 to 64 letters, digits, dots, dashes or underscores, got {value!r}")
    return value


def _database_url(value: str | None) -> Secret:
    if value is not None and not value.startswith(("postgresql://", "postgres://")):
        # Not the value itself in the message: it may hold a password.
        raise SettingsError("DATABASE_URL must start with postgresql:// (leave it empty for SQLite)")
    return Secret(value or "")


def _url(name: str, value: str | None, default: str, schemes: tuple[str, ...]) -> str:
    if value is None:
        return default
    url = URL(value)
    if url.scheme not in schemes or not url.host:
        raise SettingsError(f"{name} must be a {' or '.join(s + '://' for s in schemes)} URL, got {value!r}")
    if name == "DISCORD_API_BASE":
        return value.rstrip("/")
    # slack_sdk appends the method name to its base_url as it is
    return value if name != "SLACK_API_BASE" or value.endswith("/") else value + "/"


def _slack_token(name: str, value: str | None, prefix: str) -> Secret:
    """A Slack token of the expected kind; the message never shows the token itself."""
    if value is not None and not value.startswith(prefix):
        raise SettingsError(f"{name} must be a Slack token starting with {prefix} (the value is not shown)")
    return Secret(value or "")


def _snowflake(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 15 <= len(value) <= 21:
        raise SettingsError(f"{name} must be a Discord ID (15 to 21 digits), got {value!r}")
    return int(value)


def _number(name: str, value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {value!r}") from None
    if number <= 0:
        raise SettingsError(f"{name} must be greater than 0, got {value!r}")
    return number


def _count(name: str, value: str | None) -> int:
    if value is None:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number of at least 1, got {value!r}")
    return int(value)


def _shards(count: str | None, ids: str | None) -> dict[str, Any]:
    """``SHARD_COUNT`` and ``SHARD_IDS`` together (or neither): this process's share of the shards."""
    if (count is None) != (ids is None):
        missing = "SHARD_IDS" if ids is None else "SHARD_COUNT"
        raise SettingsError(f"{missing} must be set too: SHARD_COUNT and SHARD_IDS go together (or neither)")
    if count is None or ids is None:
        return {}
    shard_count = _count("SHARD_COUNT", count)
    parts = [part.strip() for part in ids.split(",")]
    if not all(part.isdigit() for part in parts):
        raise SettingsError(f"SHARD_IDS must be shard numbers separated by commas (like 0,1), got {ids!r}")
    shard_ids = tuple(int(part) for part in parts)
    if len(set(shard_ids)) != len(shard_ids):
        raise SettingsError(f"SHARD_IDS must not repeat a shard, got {ids!r}")
    if any(shard >= shard_count for shard in shard_ids):
        raise SettingsError(f"SHARD_IDS must be between 0 and {shard_count - 1} (SHARD_COUNT - 1), got {ids!r}")
    return {"shard_count": shard_count, "shard_ids": shard_ids}


def _flag(name: str, value: str | None) -> bool:
    if value is None:
        return False
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be yes or no (on or off), got {value!r}")


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in logging.getLevelNamesMapping():
        raise SettingsError(f"LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, got {value!r}")
    return level


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value.lower() not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value.lower()


def _port(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or int(value) > 65535:
        raise SettingsError(f"{name} must be a TCP port (0 to 65535), got {value!r}")
    return int(value)
