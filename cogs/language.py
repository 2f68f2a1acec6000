"""``/ballerina language en|ko|auto``: a member picks the language the bot answers them in."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.i18n import N_, language_of
from bot.core.languages import Languages, language_choices
from bot.discord.render import respond

Interaction = discord.Interaction[Any]


class LanguageCommands(commands.Cog):
    """Commands mixed into the ``/ballerina`` group cog (see ``cogs/ballerina.py``)."""

    languages: Languages

    @app_commands.command(name="language", description=N_("The language I answer you in"))
    @app_commands.describe(language=N_("English, Korean, or automatic: your Discord app's language"))
    @app_commands.choices(language=[app_commands.Choice(name=name, value=value) for name, value in language_choices()])
    async def language(self, interaction: Interaction, language: str) -> None:
        client = language_of(interaction.locale.value)
        await respond(interaction, await self.languages.member_command(str(interaction.user.id), language, client))
