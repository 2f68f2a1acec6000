"""The health, metrics and log settings: off and local by default, clear errors naming the variable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.settings import Settings, SettingsError


def test_the_endpoint_is_off_and_logs_are_text_by_default() -> None:
    settings = Settings.load(environ={}, env_file=None)
    assert settings.metrics_port is None
    assert settings.metrics_host == "127.0.0.1"
    assert settings.log_format == "text"
    assert settings.health_max_due_age == timedelta(minutes=15)


def test_the_endpoint_settings_are_read() -> None:
    settings = Settings.load(
        environ={
            "METRICS_PORT": "9100",
            "METRICS_HOST": "0.0.0.0",
            "LOG_FORMAT": "JSON",
            "HEALTH_MAX_DUE_AGE_MINUTES": "5",
        },
        env_file=None,
    )
    assert (settings.metrics_port, settings.metrics_host, settings.log_format) == (9100, "0.0.0.0", "json")
    assert settings.health_max_due_age == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("METRICS_PORT", "http", "METRICS_PORT must be a TCP port"),
        ("METRICS_PORT", "70000", "METRICS_PORT must be a TCP port"),
        ("METRICS_PORT", "-1", "METRICS_PORT must be a TCP port"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be one of text, json"),
        ("HEALTH_MAX_DUE_AGE_MINUTES", "0", "HEALTH_MAX_DUE_AGE_MINUTES must be greater than 0"),
    ],
)
def test_invalid_values_are_errors_naming_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.load(environ={name: value}, env_file=None)
