"""Settings: environment over .env, clear errors naming the variable, secrets never shown."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.settings import DEFAULT_API_BASE, DEFAULT_DATABASE_PATH, Settings, SettingsError

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.secret-part.do-not-show"


def test_defaults_without_environment() -> None:
    settings = Settings.load(environ={}, env_file=None)
    assert settings.discord_api_base == DEFAULT_API_BASE
    assert not settings.discord_token
    assert settings.reminder_grace == timedelta(hours=1)


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("LOG_LEVEL=DEBUG\nDEV_GUILD_ID=111111111111111111\n")
    settings = Settings.load(environ={"LOG_LEVEL": "warning"}, env_file=env_file)
    assert settings.log_level == "WARNING"
    assert settings.dev_guild_id == 111111111111111111


def test_token_is_never_shown_in_repr() -> None:
    settings = Settings.load(environ={"DISCORD_TOKEN": TOKEN}, env_file=None)
    assert settings.discord_token.reveal() == TOKEN
    assert "secret-part" not in repr(settings) and "secret-part" not in str(settings.discord_token)


def test_a_database_url_chooses_postgresql_and_never_shows_its_password() -> None:
    assert Settings.load(environ={}, env_file=None).database == DEFAULT_DATABASE_PATH
    settings = Settings.load(environ={"DATABASE_URL": "postgresql://bot:hunter2@db/ballerina"}, env_file=None)
    assert settings.database == "postgresql://bot:hunter2@db/ballerina"
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DISCORD_API_BASE", "ftp://example", "DISCORD_API_BASE must be a http:// or https:// URL"),
        ("DISCORD_GATEWAY_URL", "http://127.0.0.1:1", "DISCORD_GATEWAY_URL must be a ws:// or wss:// URL"),
        ("DEV_GUILD_ID", "12ab", "DEV_GUILD_ID must be a Discord ID"),
        ("DISCORD_APPLICATION_ID", "42", "DISCORD_APPLICATION_ID must be a Discord ID"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of"),
        ("GLOBAL_RATE_LIMIT", "fast", "GLOBAL_RATE_LIMIT must be a number"),
        ("REMINDER_GRACE_MINUTES", "-5", "REMINDER_GRACE_MINUTES must be greater than 0"),
        ("FORGET_ABSENT_SERVERS", "maybe", "FORGET_ABSENT_SERVERS must be yes or no"),
        ("DATABASE_URL", "mysql://bot:pw@db/x", "DATABASE_URL must start with postgresql://"),
    ],
)
def test_invalid_values_are_errors_naming_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.load(environ={name: value}, env_file=None)
