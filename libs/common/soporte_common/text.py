"""Which characters Soporte accepts in names and in message text.

Message text may hold anything a person can type (it is always rendered as text), but not
NUL or other C0/C1 control characters (Postgres refuses NUL; the rest are invisible tricks)
and not lone surrogates (they cannot be encoded as UTF-8 and would poison the pipeline).
Names are stricter: no format characters either, so a bidi override cannot disguise one.
A message must also show something: one made only of whitespace and characters that draw
nothing (zero-width spaces, the Hangul fillers...) is empty.
"""

from __future__ import annotations

import re
import unicodedata

# Lowercase ASCII: usernames appear in room names, URLs and logs.
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,31}$"
_USERNAME = re.compile(USERNAME_PATTERN)
# A query parameter a person types (a filter, a search): no control characters (a NUL
# would be a 500 from Postgres; the rest are never typed).
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
NAME_MAX_LENGTH = 64
# Category Cc (C0, DEL, C1) but newline, tab and carriage return; category Cs (surrogates).
_FORBIDDEN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Categories that draw nothing: controls, format characters (U+200B zero-width space,
# U+2060 word joiner, U+FEFF, bidi marks...), separators.
_BLANK_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp"}
# Letters and marks that render as nothing in every common font, and are known tricks for
# blank names and messages: the Hangul fillers, the braille blank, the combining grapheme
# joiner, Khmer inherent vowels, Mongolian variation selectors, variation selectors.
_BLANK_CHARACTERS = frozenset(
    "\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5"
    "\u180b\u180c\u180d\u180f"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


def is_valid_username(value: object) -> bool:
    return isinstance(value, str) and _USERNAME.fullmatch(value) is not None


def has_forbidden_text_chars(text: str) -> bool:
    """True if `text` holds a control character (other than newline, tab, carriage
    return) or a surrogate. (Every message is checked: one regex scan, not a loop.)"""
    return _FORBIDDEN_TEXT.search(text) is not None


def is_blank(text: str) -> bool:
    """True if `text` would show nothing: only whitespace and invisible characters."""
    return all(
        ch.isspace() or ch in _BLANK_CHARACTERS or unicodedata.category(ch) in _BLANK_CATEGORIES
        for ch in text
    )


def clean_display_name(value: str) -> str:
    """Normalise a display name or raise ValueError saying what is wrong with it."""
    name = unicodedata.normalize("NFC", value).strip()
    if is_blank(name):
        raise ValueError("el nombre no puede estar vacío")
    if len(name) > NAME_MAX_LENGTH:
        raise ValueError(f"el nombre admite como máximo {NAME_MAX_LENGTH} caracteres")
    # Cc: control characters; Cf: format characters (bidi overrides, zero-width joiners...);
    # Cs/Co/Cn: surrogates, private use, unassigned. Zl/Zp: line and paragraph separators.
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for ch in name):
        raise ValueError("el nombre contiene caracteres de control o de dirección de texto")
    return name
