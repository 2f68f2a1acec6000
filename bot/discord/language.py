"""English and Korean on Discord: the language each interaction is answered in, and the Korean
command metadata Discord shows in a Korean client.

Every handler (a command, an autocomplete, a button) runs in its own task, and
:func:`speak_to_member` sets the language for the rest of that task once, before the handler
runs: the command tree's ``interaction_check`` (which discord.py awaits in the same task before
the autocomplete or the command and its error handlers) and the button routes' dispatch.

Command *names* stay English in every client: the bot's replies, its help and the moderators'
guides name commands as typed (``/ballerina party create``), and one name per command keeps them
true. Descriptions, option descriptions and choice names are translated.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation, TranslationContextTypes, locale_str

from bot.core.i18n import DEFAULT_LANGUAGE, language_of, set_language, translate
from bot.core.languages import Languages
from bot.core.storage import Platform

_NAMES = frozenset(
    {
        TranslationContextLocation.command_name,
        TranslationContextLocation.group_name,
        TranslationContextLocation.parameter_name,
    }
)


def _tag(locale: discord.Locale | None) -> str | None:
    return locale.value if locale is not None else None


async def speak_to_member(languages: Languages, interaction: discord.Interaction[Any]) -> None:
    """Answer ``interaction`` in its member's language for the rest of the handler's task.

    Discord reports the member's client language (``locale``) and the server's default
    (``guild_locale``) with every interaction: both are recorded (cached, written only when they
    change), the server's for its channel posts, the member's for their DMs."""
    guild_id = str(interaction.guild_id) if interaction.guild_id is not None else None
    if guild_id is not None:
        await languages.for_server(guild_id, Platform.DISCORD, reported=language_of(_tag(interaction.guild_locale)))
    set_language(await languages.for_member(str(interaction.user.id), language_of(_tag(interaction.locale)), guild_id))


async def record_server_language(languages: Languages, guild: discord.Guild) -> None:
    """The server's default language as Discord reports it (a server joined, its settings changed)."""
    await languages.for_server(str(guild.id), Platform.DISCORD, reported=language_of(_tag(guild.preferred_locale)))


class CommandTextTranslator(app_commands.Translator):
    """Descriptions and choice names from the translation catalogs, for every language Discord
    has a locale of; names are left as they are (see the module's docstring)."""

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        language = language_of(locale.value)
        if language is None or language == DEFAULT_LANGUAGE or context.location in _NAMES:
            return None
        translated = translate(string.message, language)
        return translated if translated != string.message else None
