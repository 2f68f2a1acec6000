"""The ``/ballerina`` command group, composed of one mixin per feature.

discord.py lets only one cog own a top-level group, so each feature module contributes
a mixin of commands and this cog puts them together.
"""

from __future__ import annotations

from discord.ext import commands

from bot.core.i18n import N_
from bot.discord.client import BallerinaBot
from cogs.film import FilmCommands
from cogs.language import LanguageCommands
from cogs.mydata import MyDataCommands
from cogs.parties import PartyCommands
from cogs.reminders import ReminderCommands


class Ballerina(
    FilmCommands,
    ReminderCommands,
    PartyCommands,
    MyDataCommands,
    LanguageCommands,
    commands.GroupCog,
    group_name="ballerina",
    group_description=N_("Ballerina (2023): film facts, reminders and watch parties"),
):
    def __init__(self, bot: BallerinaBot) -> None:
        self.bot = bot
        self.facts = bot.core.facts
        self.reminders = bot.core.reminders
        self.parties = bot.core.parties
        self.members = bot.core.members
        self.languages = bot.core.languages
        super().__init__()


async def setup(bot: BallerinaBot) -> None:
    await bot.add_cog(Ballerina(bot))
