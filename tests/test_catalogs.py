"""The catalogs are guarded: stale template, missing Korean and differing placeholders fail the suite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog

from bot import catalogs
from bot.core import i18n


def test_the_catalogs_are_complete_and_current() -> None:
    assert catalogs.problems() == []


def _template_with(message: str | tuple[str, str]) -> Catalog:
    template = Catalog(domain=i18n.DOMAIN)
    template.add(message)
    return template


def _catalogs_in(
    folder: Path, monkeypatch: pytest.MonkeyPatch, source: list[str | tuple[str, str]], korean_entries: str
) -> None:
    """Point the catalog tools at ``folder``: a source whose messages are ``source``, a current
    template, and a Korean catalog with ``korean_entries`` (.po text)."""
    (folder / "ko" / "LC_MESSAGES").mkdir(parents=True)
    (folder / "ko" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: ko\\n"\n"Plural-Forms: nplurals=1; plural=0;\\n"\n\n' + korean_entries,
        encoding="utf-8",
    )
    monkeypatch.setattr(catalogs, "LOCALES_DIR", folder)
    monkeypatch.setattr(catalogs, "TEMPLATE", folder / "messages.pot")
    template = Catalog(domain=i18n.DOMAIN)
    for message in source:
        template.add(message)
    monkeypatch.setattr(catalogs, "extract", lambda: template)
    catalogs._write(catalogs.TEMPLATE, template, omit_header=True)


def test_check_names_an_untranslated_message_and_a_wrong_placeholder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _catalogs_in(
        tmp_path,
        monkeypatch,
        ["Party {title} moved", ("{count} member", "{count} members")],
        'msgid "Party {title} moved"\nmsgstr "{tilte} 모임이 옮겨졌어요"\n',
    )
    assert sorted(catalogs.problems()) == [
        "ko: no translation for '{count} member'",
        "ko: placeholders differ in 'Party {title} moved'",
    ]


def test_check_finds_a_stale_template(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(catalogs, "TEMPLATE", tmp_path / "messages.pot")
    catalogs._write(catalogs.TEMPLATE, _template_with("An old message"), omit_header=True)
    assert catalogs.problems()[0].startswith("messages.pot is stale")


@pytest.mark.parametrize(
    ("tag", "language"),
    [("ko", "ko"), ("ko-KR", "ko"), ("ko_KR.UTF-8", "ko"), ("en-US", "en"), ("ja", "en"), ("", None), (None, None)],
)
def test_platform_locale_tags_map_to_our_languages(tag: str | None, language: str | None) -> None:
    assert i18n.language_of(tag) == language


def test_times_are_written_the_way_the_readers_locale_writes_them() -> None:
    release = datetime(2023, 10, 6, 7, 0, tzinfo=UTC)
    seoul = ZoneInfo("Asia/Seoul")
    with i18n.speaking("ko"):
        assert i18n.format_instant(release, "F", seoul, release) == "2023년 10월 6일 금요일 오후 4:00"
        assert i18n.format_instant(release, "R", seoul, release - timedelta(days=3)) == "3일 후"
    with i18n.speaking("en"):
        assert i18n.format_instant(release, "F", seoul, release) == "Friday, October 6, 2023, 4:00\u202fPM"
        assert i18n.format_instant(release, "R", seoul, release + timedelta(days=3)) == "3 days ago"
    assert i18n.current_language() == "en"


def test_a_korean_translation_puts_the_right_particle_after_a_run_time_word() -> None:
    message = "{title:이/가} 취소됐어요. {name:을/를} 기다려요."
    assert (
        message.format(title=i18n.Word("발레리나"), name=i18n.Word("김지훈"))
        == "발레리나가 취소됐어요. 김지훈을 기다려요."
    )
    assert "{title} is cancelled".format(title=i18n.Word("Movie night")) == "Movie night is cancelled"


def test_check_accepts_particle_specs_and_names_unknown_ones(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _catalogs_in(
        tmp_path,
        monkeypatch,
        ["{title} is cancelled", "See {title}"],
        'msgid "{title} is cancelled"\nmsgstr "{title:이/가} 취소됐어요"\n\n'
        'msgid "See {title}"\nmsgstr "{title:을를} 보세요"\n',
    )
    assert catalogs.problems() == ["ko: unknown particle '을를' in 'See {title}'"]


def test_the_merge_driver_keeps_both_branches_messages_and_translations(tmp_path: Path) -> None:
    def po(*entries: tuple[str, str]) -> Path:
        path = tmp_path / f"{len(list(tmp_path.iterdir()))}.po"
        catalog = Catalog(locale="ko", domain=i18n.DOMAIN)
        for msgid, msgstr in entries:
            catalog.add(msgid, msgstr)
        catalogs._write(path, catalog)
        return path

    base = po(("Going", ""))
    ours = po(("Going", "참석"), ("Maybe", ""))
    theirs = po(("Going", ""), ("Not going", "불참"))
    catalogs.merge(base, ours, theirs, "messages.po")
    merged = {message.id: message.string for message in catalogs._read(ours) if message.id}
    assert merged == {"Going": "참석", "Maybe": "", "Not going": "불참"}
