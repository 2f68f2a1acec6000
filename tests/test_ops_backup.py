"""``ballerina-bot db backup``: a copy taken while the bot runs and writes, restored and served."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.core.storage import Via, load_migrations
from tests.fakediscord import FakeDiscord
from tests.test_cli_discord import ballerina_bot
from tests.test_discord_reminders import configure
from tests.world import RELEASE, world

LATEST = load_migrations()[-1].version


async def test_a_backup_taken_while_the_bot_writes_restores_with_the_data_and_current_schema(tmp_path: Path) -> None:
    backup = tmp_path / "backups" / "ballerina.sqlite3"
    backup.parent.mkdir()
    async with world(tmp_path, RELEASE - timedelta(days=16)) as w:
        assert w.core is not None
        await configure(w)
        await w.run(w.member, "ballerina", "remind", "on", options={"via": "dm"})
        guild, member = str(w.guild.id), str(w.member.id)
        expected = await w.core.store.get_guild_settings(guild)

        writes = 0
        done = asyncio.Event()

        async def keep_writing() -> None:
            nonlocal writes
            while not done.is_set():
                zone = ("Asia/Seoul", "Europe/Paris")[writes % 2]
                await w.run(w.moderator, "ballerina", "timezone", options={"name": zone})
                writes += 1

        writer = asyncio.create_task(keep_writing())
        code, out, err = await ballerina_bot(w.fake, tmp_path, "db", "backup", str(backup))
        written_during_backup = writes
        done.set()
        await writer
        assert code == 0, err
        assert out.strip() == f"backed up {w.settings.database_path} (schema version {LATEST}) to {backup}"
        assert written_during_backup > 0  # the bot kept writing while the copy was made
        with sqlite3.connect(backup) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file, no -wal

        # Restore: the copy becomes the bot's database and the bot starts on it.
        restored = tmp_path / "restored.sqlite3"
        shutil.copy(backup, restored)
        await w.stop()
        w.settings = replace(w.settings, database_path=restored)
        await w.start()
        assert w.core is not None
        assert await w.core.db.current_version() == w.core.db.latest_version
        assert await w.core.store.get_guild_settings(guild) == expected
        subscription = await w.core.store.get_subscription(guild, member)
        assert subscription is not None and subscription.via is Via.DM
        await w.advance(timedelta(days=9))  # and it serves from it: the 7-day reminder goes out
        assert len(w.fake.channel_messages(w.channel)) == 1
        assert len(w.fake.dm_messages(w.member)) == 1
        current = await ballerina_bot(w.fake, tmp_path, "db", "current", environ={"DATABASE_PATH": str(restored)})
        assert current == (0, f"schema version {LATEST} (this code: {LATEST})\n", "")


async def test_a_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    async with world(tmp_path, RELEASE - timedelta(days=16)) as w:
        existing = tmp_path / "keep.sqlite3"
        existing.write_text("precious")
        code, out, err = await ballerina_bot(w.fake, tmp_path, "db", "backup", str(existing))
        assert (code, out) == (2, "")
        assert err.strip() == f"error: {existing} already exists; choose a new file name"
        assert existing.read_text() == "precious"


async def test_a_backup_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.sqlite3"
    async with FakeDiscord() as fake:
        code, out, err = await ballerina_bot(
            fake, tmp_path, "db", "backup", str(tmp_path / "copy.sqlite3"), environ={"DATABASE_PATH": str(missing)}
        )
    assert (code, out) == (2, "")
    assert err.strip() == f"error: there is no database at {missing}"
    assert os.listdir(tmp_path) == []
