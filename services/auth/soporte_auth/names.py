"""Names a customer may not take because they pass for the support team's: usernames such
as `admin.`, `adm1n` or `equipo-de-soporte`, display names such as "Equipo de soporte",
"Soporte" or "Ѕoporte" (a Cyrillic Ѕ). Agents, created by an operator, are not checked.

Names are compared by skeleton: compatibility forms folded (fullwidth, mathematical
letters), letters of other scripts that look Latin replaced by the letter they look like
(Unicode's confusables table, through confusable_homoglyphs), accents dropped, digits and
symbols read as the letters they imitate (`1` as `i`, `0` as `o`, `@` as `a`), case
ignored. A name imitates the team when one of its words is a team word, or the whole of it
spells a team phrase.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable
from typing import Final

from confusable_homoglyphs import confusables  # type: ignore[import-untyped]

from soporte_common.contract import SUPPORT_TEAM

# Read as the letter they are used to imitate. `l` and `1` both become `i`: "admln" and
# "adm1n" are "admin" (no team word has an `l`).
_LOOKALIKES: Final = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "l": "i",
        "|": "i",
        "!": "i",
        "ı": "i",
        "3": "e",
        "4": "a",
        "@": "a",
        "ɑ": "a",
        "5": "s",
        "$": "s",
        "7": "t",
        "8": "b",
    }
)
_NOT_A_LETTER: Final = re.compile(r"[^a-z]+")

TEAM_WORDS: Final = frozenset(
    {
        SUPPORT_TEAM,
        "administrador",
        "administradora",
        "administrator",
        "administracion",
        "soporte",
        "support",
        "helpdesk",
        "staff",
        "moderador",
        "moderadora",
        "root",
        "sistema",
        "system",
    }
)
TEAM_PHRASES: Final = (
    "equipo de soporte",
    "equipo soporte",
    "soporte tecnico",
    "atencion al cliente",
    "servicio al cliente",
    "servicio tecnico",
    "support team",
    "customer service",
)


def skeleton(text: str) -> str:
    """What `text` looks like, as lowercase ASCII letters, digits and symbols read as
    letters, everything else (spaces, punctuation) kept as a separator."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    for found in confusables.is_confusable(folded, greedy=True, preferred_aliases=["latin"]) or []:
        latin = [g["c"] for g in found["homoglyphs"] if g["c"].isascii() and g["c"].isalnum()]
        if latin:
            folded = folded.replace(found["character"], latin[0].lower())
    bare = "".join(
        ch for ch in unicodedata.normalize("NFD", folded) if not unicodedata.combining(ch)
    )
    return bare.translate(_LOOKALIKES)


def _words(text: str) -> list[str]:
    return [w for w in _NOT_A_LETTER.split(skeleton(text)) if w]


def _is_team_word(word: str) -> bool:
    return word in TEAM_WORDS or word.removesuffix("s") in TEAM_WORDS


class TeamNames:
    """`phrases`: more display names that are the team's (the first agent's, configured)."""

    def __init__(self, phrases: Iterable[str] = ()) -> None:
        self.phrases = {"".join(_words(p)) for p in (*TEAM_PHRASES, *phrases)} - {""}

    def imitated_by_username(self, usuario: str) -> bool:
        """`usuario` is already lowercase ASCII (the username pattern); a part between dots,
        dashes or underscores may still be a team word written with digits (`adm1n`), or
        one followed by a number (`soporte24`)."""
        parts = [p for p in re.split(r"[._-]+", usuario) if p]
        candidates = [*parts, *(p.strip(string.digits) for p in parts)]
        return self._imitates(" ".join(candidates))

    def imitated_by_display_name(self, nombre: str) -> bool:
        return self._imitates(nombre)

    def _imitates(self, text: str) -> bool:
        words = _words(text)
        return any(map(_is_team_word, words)) or "".join(words) in self.phrases
