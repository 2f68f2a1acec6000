"""``ballerina-bot``: run the bot, try it offline, check the data, sync commands, invite it."""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import discord

from bot.console import ConsoleSession, terminal_language
from bot.core.film import FilmDataError
from bot.core.film_commands import FilmFacts
from bot.core.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, Language, load_catalogs
from bot.core.services import Core, load_facts
from bot.core.storage.database import POSTGRES_SCHEMES, SchemaError
from bot.core.timeparse import TimeParseError, parse_timezone
from bot.ops import OpsEndpointError
from bot.ops.backup import BackupError, backup_database
from bot.ops.logs import configure_logging
from bot.serve import PlatformChoice, configured_platforms, serve
from bot.settings import Secret, Settings, SettingsError

# The least the bot's features need: read and post in the reminder channel, embed cards,
# hand out the ping role, and mirror watch parties as Discord scheduled events.
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    # After a crash, to check whether a post in flight went out before sending it again.
    read_message_history=True,
    manage_roles=True,
    manage_events=True,
)

NO_TOKEN = (
    "DISCORD_TOKEN is not set: put your bot token in the environment or in a .env file "
    "(see .env.example), or try the bot offline with: ballerina-bot console"
)
NO_PLATFORM = (
    "neither DISCORD_TOKEN nor SLACK_BOT_TOKEN is set: put a bot token in the environment or in a .env file "
    "(see .env.example), or try the bot offline with: ballerina-bot console"
)


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _settings() -> Settings:
    try:
        return Settings.load()
    except SettingsError as exc:
        _fail(str(exc), 2)
        raise  # unreachable: _fail exits


def _facts(settings: Settings) -> FilmFacts:
    try:
        return load_facts(settings)
    except FilmDataError as exc:
        _fail(str(exc), 1)
        raise


async def _open_core(settings: Settings) -> Core:
    try:
        return await Core.open(settings)
    except FilmDataError as exc:
        _fail(str(exc), 1)
        raise


@click.group()
def main() -> None:
    """The Ballerina watch-party bot."""


@main.command()
@click.option(
    "--platform",
    type=click.Choice([p.value for p in PlatformChoice]),
    default=None,
    help="Serve only this platform (default: every platform whose token is set).",
)
def run(platform: str | None) -> None:
    """Serve Discord, Slack or both (whichever tokens are set), over one database."""
    settings = _settings()
    configured = configured_platforms(settings)
    if not configured:
        _fail(NO_PLATFORM, 2)
    if platform is not None:
        if PlatformChoice(platform) not in configured:
            token = "DISCORD_TOKEN" if platform == PlatformChoice.DISCORD else "SLACK_BOT_TOKEN"
            _fail(f"--platform {platform} needs {token} (see .env.example)", 2)
        configured = [PlatformChoice(platform)]
    if PlatformChoice.SLACK in configured and not (settings.slack_socket_mode or settings.slack_signing_secret):
        _fail("Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode): see .env.example", 2)
    _facts(settings)  # a broken film file is reported before anything connects
    configure_logging(settings)
    try:
        asyncio.run(serve(settings, configured))
    except discord.LoginFailure:
        _fail("Discord refused DISCORD_TOKEN: check the token in your .env (it is not shown here).", 2)
    except OpsEndpointError as exc:
        _fail(str(exc), 2)
    except KeyboardInterrupt:
        pass


@main.command()
@click.option("--timezone", "zone_name", default="UTC", show_default=True, help="Time zone for written times.")
@click.option(
    "--lang",
    "language",
    type=click.Choice(LANGUAGES),
    default=None,
    help="The language to answer in (default: the terminal's, from LC_ALL, LC_MESSAGES or LANG).",
)
def console(zone_name: str, language: Language | None) -> None:
    """Talk to the bot offline: type /ballerina commands (or pipe them in)."""
    try:
        zone: ZoneInfo = parse_timezone(zone_name)
    except TimeParseError as exc:
        _fail(str(exc), 2)
        raise
    settings = _settings()
    _facts(settings)  # a broken film file is reported before anything else

    async def chat() -> None:
        # A throwaway database: trying the bot leaves nothing behind.
        with tempfile.TemporaryDirectory() as folder:
            throwaway = replace(settings, database_path=Path(folder) / "console.sqlite3", database_url=Secret(""))
            core = await _open_core(throwaway)
            try:
                session = ConsoleSession(core.facts, zone, core, language or terminal_language(os.environ))
                await session.run(sys.stdin, interactive=sys.stdin.isatty())
            finally:
                await core.close()

    asyncio.run(chat())


@main.command()
def check() -> None:
    """Validate the settings and the film data file, and print what was loaded."""
    settings = _settings()
    film = _facts(settings).film
    click.echo(f"film file: {settings.film_file}")
    click.echo(f"film: {film.title} ({film.genre}), directed by {film.director.name}")
    click.echo(f"cast: {', '.join(f'{m.actor} as {m.character}' for m in film.cast)}")
    click.echo(f"release: {film.release.instant.isoformat()} on {film.release.platform}")
    languages = ", ".join(f"{language} ({LANGUAGE_NAMES[language]})" for language in load_catalogs())
    click.echo(f"languages: {languages}")
    click.echo(f"database: {'PostgreSQL (DATABASE_URL)' if settings.database_url else settings.database_path}")
    click.echo(f"DISCORD_TOKEN: {'set' if settings.discord_token else 'not set'}")
    click.echo(f"SLACK_BOT_TOKEN: {'set' if settings.slack_bot_token else 'not set'}")
    if settings.slack_bot_token:
        if settings.slack_socket_mode:
            click.echo("Slack: Socket Mode (SLACK_APP_TOKEN set)")
        else:
            secret = "set" if settings.slack_signing_secret else "NOT SET: Slack requests cannot be verified"
            click.echo(f"Slack: HTTP mode on {settings.slack_host}:{settings.slack_port}/slack/events")
            click.echo(f"SLACK_SIGNING_SECRET: {secret}")
        click.echo(f"Slack API: {settings.slack_api_base}")
    click.echo("ok")


@main.command("slack-manifest")
@click.option("--http-url", default=None, help="Public base URL for HTTP mode (default: Socket Mode).")
@click.option(
    "--lang",
    "language",
    type=click.Choice(LANGUAGES),
    default=DEFAULT_LANGUAGE,
    show_default=True,
    help="The language of the command descriptions members see (Slack has one per app).",
)
def slack_manifest(http_url: str | None, language: Language) -> None:
    """Print the Slack app manifest (YAML) to create the app at api.slack.com/apps."""
    from bot.slack.manifest import manifest, to_yaml

    if http_url is not None and not http_url.startswith("https://"):
        _fail(f"--http-url must be an https:// URL Slack can reach, got {http_url!r}", 2)
    click.echo(to_yaml(manifest(http_url, language)))


@main.command()
@click.option("--guild", "guild_id", type=int, default=None, help="Register to one server only (instant).")
def sync(guild_id: int | None) -> None:
    """Register the slash commands with Discord (globally, or to one server)."""
    settings = _settings()
    if not settings.discord_token:
        _fail(NO_TOKEN, 2)
    from bot.discord.client import BallerinaBot

    async def register() -> int:
        core = await _open_core(settings)
        try:
            async with BallerinaBot(core, serving=False) as bot:
                await bot.login(settings.discord_token.reveal())
                return len(await bot.sync_commands(guild_id))
        finally:
            await core.close()

    count = asyncio.run(register())
    click.echo(f"registered {count} top-level commands " + (f"to server {guild_id}" if guild_id else "globally"))


@main.group()
def db() -> None:
    """The database (SQLite, or PostgreSQL with DATABASE_URL): schema version, upgrades, backups, copies."""


@db.command()
def current() -> None:
    """Print the database's schema version and the newest this code knows."""
    from bot.core.storage import Database

    async def versions() -> tuple[int, int]:
        database = await Database.open(_settings().database, migrate=False)
        try:
            return await database.current_version(), database.latest_version
        finally:
            await database.close()

    have, latest = asyncio.run(versions())
    click.echo(f"schema version {have} (this code: {latest})" + (", upgrade pending" if have < latest else ""))


@db.command()
def upgrade() -> None:
    """Apply pending migrations (the bot also does this at every start)."""
    from bot.core.storage import Database

    async def migrate() -> list[str]:
        database = await Database.open(_settings().database, migrate=False)
        try:
            return [f"V{m.version} {m.name}" for m in await database.migrate()]
        finally:
            await database.close()

    applied = asyncio.run(migrate())
    click.echo("applied: " + ", ".join(applied) if applied else "already up to date")


def _database_argument(value: str) -> str | Path:
    """``sqlite:PATH`` or a ``postgresql://`` URL, as ``Database.open`` takes it."""
    if value.startswith(POSTGRES_SCHEMES):
        return value
    if value.startswith("sqlite:"):
        return Path(value.removeprefix("sqlite:"))
    raise click.BadParameter("give sqlite:PATH or a postgresql:// URL")


@db.command("copy")
@click.option("--from", "source", required=True, help="The database to copy: sqlite:PATH or a postgresql:// URL.")
@click.option("--to", "target", required=True, help="The database to fill: a postgresql:// URL or sqlite:PATH.")
def copy_command(source: str, target: str) -> None:
    """Copy everything (settings, opt-ins, parties, answers, reminders, outbox, state) to another
    database, then count every table on both sides. Running it again adds nothing."""
    from bot.core.storage import Database
    from bot.core.storage.copy import TableCopy, copy_database

    origin, destination = _database_argument(source), _database_argument(target)
    if isinstance(origin, Path) and not origin.is_file():
        _fail(f"no database file at {origin}", 2)

    async def run() -> list[TableCopy]:
        # The source is only read, never migrated; the target is brought to this code's schema.
        reader = await Database.open(origin, migrate=False)
        try:
            writer = await Database.open(destination)
            try:
                return await copy_database(reader, writer)
            finally:
                await writer.close()
        finally:
            await reader.close()

    try:
        report = asyncio.run(run())
    except SchemaError as exc:
        _fail(str(exc), 2)
        raise
    for table in report:
        check = "ok" if table.matches else f"MISMATCH: the target has {table.target_rows}"
        click.echo(f"{table.table}: {table.source_rows} rows, {table.added} copied now, {check}")
    if any(not table.matches for table in report):
        _fail("the row counts differ: did the target hold other data before?", 1)
    if not any(table.added for table in report):
        click.echo("nothing to copy: the target already holds every row")
    else:
        click.echo(f"copied {sum(table.added for table in report)} rows; every table's count matches")


@db.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """Copy the database to PATH, safely even while the bot runs and writes."""
    settings = _settings()
    if settings.database_url:
        _fail("backup copies the SQLite file; for PostgreSQL (DATABASE_URL) use pg_dump", 2)
    source = settings.database_path
    try:
        version = asyncio.run(backup_database(source, path))
    except BackupError as exc:
        _fail(str(exc), 2)
        raise
    click.echo(f"backed up {source} (schema version {version}) to {path}")


def application_id_from_token(token: str) -> int | None:
    """A bot token's first part is the bot's user ID (= application ID) in base64."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isdigit() else None


@main.command("invite-url")
def invite_url() -> None:
    """Print the link that adds the bot to a server, with the least permissions it needs."""
    settings = _settings()
    app_id = settings.discord_application_id or application_id_from_token(settings.discord_token.reveal())
    if app_id is None:
        _fail("set DISCORD_APPLICATION_ID (or DISCORD_TOKEN) to build the invite link", 2)
        return
    click.echo(discord.utils.oauth_url(app_id, permissions=BOT_PERMISSIONS, scopes=("bot", "applications.commands")))
