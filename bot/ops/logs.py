"""Log lines for people and for log collectors (``LOG_FORMAT=json``), never with a secret in them.

The token is redacted from every formatted line, whoever logged it: our code never logs it, but
a library's debug output or an exception's text might.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from bot.settings import Settings

REDACTED = "********"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    """A formatter that replaces each secret, wherever it appears in a line, with ``REDACTED``."""

    def __init__(self, fmt: str | None = None, *, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(RedactingFormatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and exc_info if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exc_info"] = self.redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack_info"] = self.redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Send every logger's lines to ``stream`` (default: stderr) at ``LOG_LEVEL``, as ``LOG_FORMAT`` says."""
    secrets = [
        secret.reveal()
        for secret in (
            settings.discord_token,
            settings.slack_bot_token,
            settings.slack_app_token,
            settings.slack_signing_secret,
        )
    ]
    formatter = (
        JsonFormatter(secrets=secrets)
        if settings.log_format == "json"
        else RedactingFormatter(TEXT_FORMAT, secrets=secrets)
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
