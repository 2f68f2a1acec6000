"""Korean particles chosen by how the word before them is read aloud."""

from __future__ import annotations

import pytest

from bot.core.korean import Ending, ending, particle, with_particle


@pytest.mark.parametrize(
    ("word", "pair", "expected"),
    [
        # Hangul: no final consonant, a final consonant, a final ㄹ.
        ("발레리나", "을/를", "발레리나를"),
        ("김지훈", "을/를", "김지훈을"),
        ("전종서", "을/를", "전종서를"),
        ("옥주", "이/가", "옥주가"),
        ("최프로", "은/는", "최프로는"),
        ("이충현", "은/는", "이충현은"),
        ("민희", "과/와", "민희와"),
        ("박유림", "과/와", "박유림과"),
        ("넷플릭스", "으로/로", "넷플릭스로"),
        ("부산", "으로/로", "부산으로"),
        ("서울", "으로/로", "서울로"),  # ㄹ takes 로
        ("서울", "을/를", "서울을"),  # but 을, not 를
        ("영화관", "이/가", "영화관이"),
        ("밤", "과/와", "밤과"),
        # The pair may be given either way round.
        ("발레리나", "를/을", "발레리나를"),
        ("부산", "로/으로", "부산으로"),
        # Digits, read the Sino-Korean way.
        ("1", "이/가", "1이"),  # 일
        ("2", "이/가", "2가"),  # 이
        ("3", "을/를", "3을"),  # 삼
        ("4", "은/는", "4는"),  # 사
        ("6", "으로/로", "6으로"),  # 육
        ("7", "으로/로", "7로"),  # 칠
        ("8", "으로/로", "8로"),  # 팔
        ("9", "을/를", "9를"),  # 구
        ("0", "이/가", "0이"),  # 영
        ("10", "이/가", "10이"),  # 십
        ("20", "과/와", "20과"),  # 이십
        ("100", "은/는", "100은"),  # 백
        ("1000", "으로/로", "1000으로"),  # 천
        ("10000", "이/가", "10000이"),  # 만
        ("1000000000000", "이/가", "1000000000000가"),  # 조
        ("12", "이/가", "12가"),  # 십이
        ("파티 2", "을/를", "파티 2를"),
        # Latin words, read as Korean loanwords.
        ("Ballerina", "을/를", "Ballerina를"),
        ("Netflix", "으로/로", "Netflix로"),  # 넷플릭스
        ("Movie night", "을/를", "Movie night를"),  # 무비 나이트
        ("Kim Ji-hoon", "을/를", "Kim Ji-hoon을"),  # 김지훈
        ("Jeon Jong-seo", "을/를", "Jeon Jong-seo를"),  # 전종서
        ("Ok-ju", "이/가", "Ok-ju가"),
        ("Choi Pro", "은/는", "Choi Pro는"),
        ("Min-hee", "과/와", "Min-hee와"),
        ("Park Yu-rim", "이/가", "Park Yu-rim이"),
        ("Busan", "으로/로", "Busan으로"),
        ("Seoul", "으로/로", "Seoul로"),
        ("Seoul", "이/가", "Seoul이"),
        ("Game time", "이/가", "Game time이"),  # 게임 타임
        ("Happy", "이/가", "Happy가"),
        ("Lover", "을/를", "Lover를"),
        ("Code", "을/를", "Code를"),
        ("Watch", "을/를", "Watch를"),  # 워치
        ("Long song", "으로/로", "Long song으로"),
        # Capitals are spelled out.
        ("TV", "을/를", "TV를"),  # 티비
        ("URL", "으로/로", "URL로"),  # 유알엘
        ("BTS", "와/과", "BTS와"),  # 비티에스
        ("HTML", "이/가", "HTML이"),  # 에이치티엠엘
        ("CGV", "에서", None),
        # Unknown endings get the written double form.
        ("Chat", "을/를", "Chat을(를)"),
        ("Book club", "이/가", "Book club이(가)"),
        ("Apple", "은/는", "Apple은(는)"),
        ("🎬", "과/와", "🎬과(와)"),
        ("映画", "으로/로", "映画(으)로"),
        ("", "을/를", "을(를)"),
        ("ㅋㅋ", "이/가", "ㅋㅋ이(가)"),
        # Trailing marks are skipped.
        ("“발레리나”", "을/를", "“발레리나”를"),
        ("Movie night!", "이/가", "Movie night!가"),
        ("김지훈 (최프로)", "과/와", "김지훈 (최프로)와"),
    ],
)
def test_particle_follows_the_last_sound(word: str, pair: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="unknown particle pair '에서'"):
            with_particle(word, pair)
    else:
        assert with_particle(word, pair) == expected


def test_decomposed_hangul_is_read_like_composed() -> None:
    """Text pasted from macOS may come as separate jamo (NFD); it is the same word."""
    import unicodedata

    assert particle(unicodedata.normalize("NFD", "김지훈"), "을/를") == "을"


@pytest.mark.parametrize(
    ("syllable", "expected"),
    [
        ("가", Ending.VOWEL),
        ("각", Ending.CONSONANT),
        ("갈", Ending.RIEUL),
        ("힣", Ending.CONSONANT),
        ("히", Ending.VOWEL),
    ],
)
def test_every_syllable_block_edge_is_read(syllable: str, expected: Ending) -> None:
    assert ending(syllable) is expected
