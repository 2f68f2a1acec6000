"""The Slack app manifest: ``ballerina-bot slack-manifest`` prints it to paste at api.slack.com/apps.

The least the features need: slash commands and ephemeral answers (``commands``, ``chat:write``),
reminder posts in public channels the bot was not invited to (``chat:write.public``), whether it
may post in a channel before saving it (``channels:read``, ``groups:read`` for conversations.info), members'
time zones and admin flags (``users:read``), DMs (``im:write``), user groups to ping
(``usergroups:read``), and reading back its own posts after a crash so a reminder goes out
exactly once (``channels:history``, ``groups:history``, ``im:history``).

Slack has no per-locale command descriptions (unlike Discord's ``description_localizations``): a
manifest speaks one language to the whole workspace, so ``slack-manifest --lang ko`` writes the
descriptions members see in the command picker in Korean, for a Korean workspace.
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.i18n import DEFAULT_LANGUAGE, Language, _, speaking
from bot.slack.app import EVENTS_PATH

BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:read",
    "groups:read",
    "users:read",
    "im:write",
    "usergroups:read",
    "channels:history",
    "groups:history",
    "im:history",
)
BOT_EVENTS = ("app_home_opened", "app_uninstalled", "tokens_revoked")


def manifest(http_url: str | None = None, language: Language = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """Socket Mode unless ``http_url`` (the public base URL the bot's HTTP mode is reached at);
    what members read in ``language``."""
    with speaking(language):
        return _manifest(http_url)


def _manifest(http_url: str | None) -> dict[str, Any]:
    request_url = http_url.rstrip("/") + EVENTS_PATH if http_url else None

    def command(name: str, description: str, hint: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"command": name, "description": description, "usage_hint": hint}
        if request_url:
            entry["url"] = request_url
        entry["should_escape"] = True  # mentions arrive as <@U…|name> and <#C…|name>
        return entry

    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if request_url:
        events["request_url"] = request_url
        interactivity["request_url"] = request_url
    return {
        "display_information": {
            "name": "Ballerina",
            "description": _("Film facts, release reminders and watch parties"),
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "Ballerina", "always_online": True},
            "slash_commands": [
                command("/ballerina", _("Film facts, reminders and watch parties"), "help | cast | remind on | ..."),
                command("/ballerina-admin", _("Configure the bot (moderators)"), "status | channel | language | ..."),
            ],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": request_url is None,
            "token_rotation_enabled": False,
        },
    }


def to_yaml(value: Any, indent: int = 0) -> str:
    """A small YAML writer for the manifest's mappings, lists, strings and booleans.

    Strings are written as JSON strings, which YAML reads as double-quoted scalars."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 2))
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    else:
        for item in value:
            if isinstance(item, dict):
                nested = to_yaml(item, indent + 2).splitlines()
                lines.append(f"{pad}- {nested[0].lstrip()}")
                lines.extend(nested[1:])
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    return "\n".join(lines)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(value)
