"""Korean particles after words only known at run time (a member's party title, a name).

Korean particles change with the sound the word before them ends in: 을/를, 이/가, 은/는, 과/와
and 으로/로. ``with_particle("발레리나", "을/를")`` gives ``발레리나를``, ``with_particle("김지훈",
"을/를")`` gives ``김지훈을``. The ending is read as a Korean reader would say it:

* Hangul: the syllable's final consonant, by the Unicode syllable arithmetic (each syllable is
  ``0xAC00 + (initial * 21 + vowel) * 28 + final``; ``final`` 0 is none and 8 is ㄹ).
* Digits: the number's Korean (Sino-Korean) reading: ``1`` 일 and ``7`` 칠 end in ㄹ, ``2`` 이 in a
  vowel, ``3`` 삼 in a consonant; trailing zeros read as 십, 백, 천, 만, 억 (consonants) or 조.
* Latin letters: capitals of up to three letters, or with no vowel, are spelled out (``TV`` 티비,
  ``URL`` 유알엘 ends in ㄹ, ``HTML``); any other word by its last letters as Korean loanwords say them:
  m, n, ng end in a consonant (``Kim`` 김), l in ㄹ (``Seoul`` 서울); a vowel, y, w, a silent r
  (``Pro``, ``Movie``, ``Lover``), s, x, z, f, v, ch, sh, th, ``-ght`` (``Movie night`` 무비 나이트)
  and an e after a vowel or after b, c, d, f, g, k, r, s, t, v or z (``Code`` 코드) end in a vowel;
  ``-me`` and ``-ne`` (``Time`` 타임) in a consonant. Endings that go either way in Korean (``book``
  북 but ``cake`` 케이크, ``Apple`` 애플 but ``mile`` 마일, ``-p``, ``-t``) are unknown.
* Anything else (trailing punctuation and brackets are skipped first, then emoji, other scripts)
  is unknown, and gets the written double form Korean uses for it: ``을(를)``, ``이(가)``,
  ``은(는)``, ``과(와)``, ``(으)로``.
"""

from __future__ import annotations

import enum
import re
import unicodedata

__all__ = ["PARTICLE_PAIRS", "Ending", "ending", "particle", "with_particle"]


class Ending(enum.Enum):
    """How a word ends when read aloud in Korean, as far as particles care."""

    VOWEL = "vowel"
    RIEUL = "ㄹ"  # takes 로, like a vowel, but 을/이/은/과 like a consonant
    CONSONANT = "consonant"
    UNKNOWN = "unknown"


# (after a consonant, after a vowel, written double form when unknown)
_PARTICLES: dict[str, tuple[str, str, str]] = {
    "을/를": ("을", "를", "을(를)"),
    "이/가": ("이", "가", "이(가)"),
    "은/는": ("은", "는", "은(는)"),
    "과/와": ("과", "와", "과(와)"),
    "으로/로": ("으로", "로", "(으)로"),
}
_PARTICLES.update({"/".join(reversed(pair.split("/"))): forms for pair, forms in list(_PARTICLES.items())})
PARTICLE_PAIRS = frozenset(_PARTICLES)
"""The pairs :func:`particle` knows, either way round (``을/를`` or ``를/을``)."""

_SYLLABLE_FIRST, _SYLLABLE_LAST = 0xAC00, 0xD7A3
_FINAL_RIEUL = 8

# The Sino-Korean reading of each last digit: 영 일 이 삼 사 오 육 칠 팔 구.
_DIGIT_ENDINGS = {
    "0": Ending.CONSONANT, "1": Ending.RIEUL, "2": Ending.VOWEL, "3": Ending.CONSONANT, "4": Ending.VOWEL,
    "5": Ending.VOWEL, "6": Ending.CONSONANT, "7": Ending.RIEUL, "8": Ending.RIEUL, "9": Ending.VOWEL,
}  # fmt: skip
# A number ending in zeros ends in its last power of ten: 십 백 천, then 만, 억 (consonants), 조, 경.
_JO_ZEROS = range(12, 16)

# Letter names as Koreans spell them: 엘 and 알 end in ㄹ, 엠 and 엔 in a consonant, the rest in a vowel.
_LETTER_ENDINGS = {"L": Ending.RIEUL, "R": Ending.RIEUL, "M": Ending.CONSONANT, "N": Ending.CONSONANT}
# Spelled out: short capitals (TV, BTS, URL) and capitals with no vowel to say them by (HTML).
_ACRONYM_RE = re.compile(r"[A-Z]{1,3}|[B-DF-HJ-NP-TV-XZ]+")
_WORD_RULES: tuple[tuple[re.Pattern[str], Ending], ...] = tuple(
    (re.compile(f"(?:{pattern})$"), result)
    for pattern, result in (
        (r"ng|[mn]|[mn]e", Ending.CONSONANT),
        (r"l|ll", Ending.RIEUL),
        (r"ght|ch|sh|th|[aiouyw]|[aeiou]r|[sxzfv]|[aeiouy]e|[bcdfgkrstvz]e", Ending.VOWEL),
    )
)
_TRAILING_MARKS_RE = re.compile(r"[\s\"'“”‘’»«)\]}>.,!?;:…~\-_*]+$")


def _hangul_ending(syllable: str) -> Ending:
    final = (ord(syllable) - _SYLLABLE_FIRST) % 28
    if final == 0:
        return Ending.VOWEL
    return Ending.RIEUL if final == _FINAL_RIEUL else Ending.CONSONANT


def _number_ending(digits: str) -> Ending:
    significant = digits.rstrip("0")
    zeros = len(digits) - len(significant)
    if not significant:
        return Ending.CONSONANT  # 영
    if zeros == 0:
        return _DIGIT_ENDINGS[significant[-1]]
    return Ending.VOWEL if zeros in _JO_ZEROS else Ending.CONSONANT


def _latin_ending(word: str) -> Ending:
    if _ACRONYM_RE.fullmatch(word):
        return _LETTER_ENDINGS.get(word[-1], Ending.VOWEL)
    lower = word.lower()
    for pattern, result in _WORD_RULES:
        if pattern.search(lower):
            return result
    return Ending.UNKNOWN


def ending(text: str) -> Ending:
    """How ``text`` ends when read aloud in Korean (module docstring)."""
    text = _TRAILING_MARKS_RE.sub("", unicodedata.normalize("NFC", text))
    if not text:
        return Ending.UNKNOWN
    last = text[-1]
    if _SYLLABLE_FIRST <= ord(last) <= _SYLLABLE_LAST:
        return _hangul_ending(last)
    if last.isascii() and last.isdigit():
        return _number_ending(text[len(text.rstrip("0123456789")) :])
    if last.isascii() and last.isalpha():
        return _latin_ending(re.split(r"[^A-Za-z]", text)[-1])
    return Ending.UNKNOWN


def particle(word: str, pair: str) -> str:
    """The form of ``pair`` (``"을/를"``, ``"이/가"``, ``"은/는"``, ``"과/와"``, ``"으로/로"``) after ``word``."""
    try:
        after_consonant, after_vowel, double = _PARTICLES[pair]
    except KeyError:
        raise ValueError(f"unknown particle pair {pair!r}; expected one of {', '.join(_PARTICLES)}") from None
    found = ending(word)
    if found is Ending.UNKNOWN:
        return double
    if found is Ending.VOWEL or (found is Ending.RIEUL and after_vowel == "로"):
        return after_vowel
    return after_consonant


def with_particle(word: str, pair: str) -> str:
    """``word`` followed by the right form of ``pair``: ``with_particle("발레리나", "을/를") == "발레리나를"``."""
    return word + particle(word, pair)
