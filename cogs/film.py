"""Film facts: ``/ballerina about``, ``cast``, ``director``, ``release``, ``character``, ``help``."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.film_commands import FilmFacts
from bot.core.i18n import N_
from bot.discord.render import respond

Interaction = discord.Interaction[Any]


class FilmCommands(commands.Cog):
    """Commands mixed into the ``/ballerina`` group cog (see ``cogs/ballerina.py``)."""

    facts: FilmFacts

    @app_commands.command(name="about", description=N_("What the film is about, its premiere and where to watch it"))
    async def about(self, interaction: Interaction) -> None:
        await respond(interaction, self.facts.about())

    @app_commands.command(name="cast", description=N_("Who plays whom"))
    async def cast(self, interaction: Interaction) -> None:
        await respond(interaction, self.facts.cast())

    @app_commands.command(name="director", description=N_("The director and his vision for the film"))
    async def director(self, interaction: Interaction) -> None:
        await respond(interaction, self.facts.director())

    @app_commands.command(name="release", description=N_("When the film came out on Netflix, in your own time zone"))
    async def release(self, interaction: Interaction) -> None:
        await respond(interaction, self.facts.release())

    @app_commands.command(name="character", description=N_("One character in detail"))
    @app_commands.describe(name=N_("The character's name (or the actor's)"))
    async def character(self, interaction: Interaction, name: app_commands.Range[str, 1, 100]) -> None:
        await respond(interaction, self.facts.character(name))

    @character.autocomplete("name")
    async def character_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in self.facts.character_choices(current)]

    @app_commands.command(name="help", description=N_("Everything this bot can do"))
    async def help(self, interaction: Interaction) -> None:
        await respond(interaction, self.facts.help())
