"""The translation catalogs' upkeep: ``python -m bot.catalogs update`` after changing any message,
``python -m bot.catalogs check`` (run by the tests) to find what is stale or untranslated.
``merge`` is a git merge driver that unites two branches' catalogs (enable it once with
``git config merge.pocatalog.driver "python -m bot.catalogs merge %O %A %B %P"``).

``update`` extracts every marked message from ``bot/`` and ``cogs/`` into ``messages.pot`` (the
same as ``pybabel extract`` with ``bot/locales/babel.cfg``) and merges it into each language's
``.po`` (as ``pybabel update``), keeping existing translations; new messages arrive untranslated
and ``check`` names them until a translator fills them in.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.core.i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, LOCALES_DIR
from bot.core.korean import PARTICLE_PAIRS

SOURCE_ROOT = LOCALES_DIR.parent.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
COMMENT_TAGS = ("TRANSLATORS:",)
PLACEHOLDER = re.compile(r"\{([^{}:!]*)(?:![^{}:]*)?(?::([^{}]*))?\}")
"""A ``str.format`` field: its name must match between languages; a Korean translation may add a
particle spec after it, ``{title:을/를}`` (see :class:`bot.core.i18n.Word`)."""
HANGUL = re.compile(r"[\uac00-\ud7a3]")
TEMPLATE = LOCALES_DIR / f"{DOMAIN}.pot"
STABLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def po_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    """Every marked message of the source, as ``pybabel extract`` finds them."""
    catalog = Catalog(project="ballerina-bot", domain=DOMAIN)
    method_map = [("bot/**.py", "python"), ("cogs/**.py", "python")]
    for _filename, _lineno, message, comments, context in extract_from_dir(
        SOURCE_ROOT, method_map, keywords=KEYWORDS, comment_tags=COMMENT_TAGS, strip_comment_tags=True
    ):
        catalog.add(message, None, auto_comments=comments, context=context)
    return catalog


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale, domain=DOMAIN)


def _write(path: Path, catalog: Catalog, *, omit_header: bool = False) -> None:
    """Sorted, without locations or dates, so the files change only where a message does."""
    catalog.creation_date = catalog.revision_date = STABLE_DATE
    catalog.last_translator = catalog.language_team = "Ballerina bot team"
    catalog.msgid_bugs_address = ""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        write_po(file, catalog, no_location=True, sort_output=True, width=100, omit_header=omit_header)


def _ids(catalog: Iterable[Message]) -> set[object]:
    return {message.id for message in catalog if message.id}


def update() -> None:
    template = extract()
    _write(TEMPLATE, template, omit_header=True)
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        path = po_path(language)
        catalog = _read(path, language) if path.exists() else Catalog(locale=language, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        _write(path, catalog)


def _placeholders(text: str | tuple[str, ...] | list[str] | None) -> set[str]:
    return {name for one in _strings(text) for name, _spec in PLACEHOLDER.findall(one)}


def _bad_particles(text: str | tuple[str, ...] | list[str] | None) -> list[str]:
    specs = (spec for one in _strings(text) for _name, spec in PLACEHOLDER.findall(one))
    return [spec for spec in specs if HANGUL.search(spec) and spec not in PARTICLE_PAIRS]


def problems() -> list[str]:
    """What is wrong with the catalogs, one line each: empty when they are complete and current."""
    found: list[str] = []
    template = extract()
    if not TEMPLATE.exists() or _ids(_read(TEMPLATE)) != _ids(template):
        found.append(f"{TEMPLATE.name} is stale: run `python -m bot.catalogs update`")
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        catalog = _read(po_path(language), language)
        for message in template:
            if not message.id:
                continue
            translated = catalog.get(message.id, message.context)
            name = message.id if isinstance(message.id, str) else message.id[0]
            if translated is None or translated.fuzzy or not all(_strings(translated.string)):
                found.append(f"{language}: no translation for {name!r}")
            elif _placeholders(translated.string) != _placeholders(message.id):
                found.append(f"{language}: placeholders differ in {name!r}")
            elif bad := _bad_particles(translated.string):
                found.append(f"{language}: unknown particle {bad[0]!r} in {name!r}")
    return found


def _strings(text: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if text is None:
        return [""]
    return [text] if isinstance(text, str) else list(text)


def merge(base_path: Path, ours_path: Path, theirs_path: Path, name: str) -> None:
    """A git merge driver (see ``.gitattributes``): both sides' messages, and every translation
    either side made, into ``ours_path``."""
    base, ours, theirs = _read(base_path), _read(ours_path), _read(theirs_path)
    for message in theirs:
        if not message.id:
            continue
        mine = ours.get(message.id, message.context)
        old = base.get(message.id, message.context)
        if mine is None:
            ours[message.id] = message
        elif message.string and (not mine.string or (old is not None and mine.string == old.string)):
            mine.string = message.string
            mine.flags.discard("fuzzy")
    _write(ours_path, ours, omit_header=name.endswith(".pot"))


def main(argv: list[str]) -> int:
    if argv[1:] == ["update"]:
        update()
        return 0
    if argv[1:] == ["check"]:
        listed = problems()
        print("\n".join(listed) or "catalogs complete")
        return 1 if listed else 0
    if argv[1:2] == ["merge"] and len(argv) == 6:
        merge(Path(argv[2]), Path(argv[3]), Path(argv[4]), argv[5])
        return 0
    print("usage: python -m bot.catalogs update|check|merge BASE OURS THEIRS NAME", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
