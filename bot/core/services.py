"""The platform-neutral core that every adapter (Discord, Slack, console) is built on."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.core.clock import Clock, SystemClock
from bot.core.engine import EngineConfig, ReminderEngine
from bot.core.engine.protocols import EventKind, Transport
from bot.core.engine.release import ReleaseKind
from bot.core.film import load_film
from bot.core.film_commands import FilmFacts
from bot.core.i18n import load_catalogs
from bot.core.languages import InReadersLanguage, Languages
from bot.core.parties import Parties, PartyNotices, PartyReminders
from bot.core.privacy import DMsToMembersOnly, MemberData, MemberDirectory
from bot.core.reminders import ReleaseReminders
from bot.core.storage import Database, OutboxRow, Platform, Store
from bot.core.storage.languages import LanguageStore
from bot.core.storage.parties import PartyStore
from bot.settings import Settings

log = logging.getLogger(__name__)


def load_facts(settings: Settings, clock: Clock | None = None) -> FilmFacts:
    """Load and validate the film data; raises ``FilmDataError`` naming the broken field."""
    return FilmFacts(load_film(settings.film_file), clock or SystemClock())


class Core:
    """Film facts, storage, reminders and watch parties: everything a platform adapter calls."""

    def __init__(self, settings: Settings, clock: Clock, facts: FilmFacts, db: Database) -> None:
        self.settings = settings
        self.clock = clock
        self.facts = facts
        self.db = db
        self.store = Store(db, clock)
        self.languages = Languages(LanguageStore(db, self.store))
        self.reminders = ReleaseReminders(facts.film, self.store, clock, self.notify_changed, self.languages)
        self.parties = Parties(facts.film, self.store, PartyStore(db), clock, self.notify_changed, self.languages)
        self.members = MemberData(self.store, self.reminders, self.parties)
        self.engine: ReminderEngine | None = None
        self._directories: dict[Platform, MemberDirectory] = {}

    @classmethod
    async def open(cls, settings: Settings, clock: Clock | None = None) -> Core:
        """Load the film and the translations, open (and migrate) the database and record the release date."""
        clock = clock or SystemClock()
        load_catalogs()
        facts = load_facts(settings, clock)
        if not settings.database_url:
            settings.database_path.parent.mkdir(parents=True, exist_ok=True)
        core = cls(settings, clock, facts, await Database.open(settings.database))
        await core.store.set_release(facts.film.id, facts.film.release.instant)
        return core

    def notify_changed(self) -> None:
        """Something may be due earlier than planned: wake this process's engine, and the others'."""
        if self.engine is not None:
            self.engine.notify_changed()
        self.db.announce_change()

    async def start(
        self,
        transports: Mapping[Platform, Transport],
        directories: Mapping[Platform, MemberDirectory] | None = None,
    ) -> None:
        """Start one engine delivering every platform's reminders, each through its transport;
        where a platform has a member ``directory``, DMs go only to members still in the server,
        and those who left are forgotten there. With ``DELIVERY=off`` no engine starts: other
        processes deliver."""
        if not self.settings.delivery:
            log.info("DELIVERY=off: this process serves commands; other processes send the reminders")
            return
        self._directories = dict(directories or {})
        config = EngineConfig(
            grace=self.settings.reminder_grace, process=self.settings.process_name, lease=self.settings.delivery_lease
        )
        kinds: list[EventKind] = [
            ReleaseKind(
                self.store,
                self.reminders.render_notice,
                [platform for platform, transport in transports.items() if transport.subscribers_in_thread],
            ),
            PartyReminders(self.parties),
            PartyNotices(self.parties),
        ]
        if self._directories:
            kinds = [DMsToMembersOnly(kind, self._directories, self.members) for kind in kinds]
        kinds = [InReadersLanguage(kind, self.languages) for kind in kinds]
        self.engine = ReminderEngine(
            self.db, transports, kinds, self.clock, config, on_recipient_left=self._recipient_left
        )
        await self.engine.start()

    async def _recipient_left(self, row: OutboxRow) -> None:
        """A DM answered that the member left the server: forget them there, as on any departure."""
        await self.members.departed(row.guild_id, row.target_id, self._directories.get(row.platform))

    async def stop(self) -> None:
        """Stop delivering: sends under way finish (a few seconds at most), the rest go out at the next start."""
        if self.engine is not None:
            await self.engine.stop()
            self.engine = None

    async def close(self) -> None:
        await self.stop()
        await self.db.close()
