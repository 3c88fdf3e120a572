"""Display names: they are printed in the minutes, the speaker queue and on every download's watermark.

A pure rule: normalise what can be normalised (NFC, surrounding and repeated spaces) and refuse what
would make a name show differently from what it is (bidi overrides, zero-width and other invisible
characters, control characters).
"""

from __future__ import annotations

import unicodedata

# Unicode categories that never belong in a name: controls, format characters (bidi overrides, zero
# width joiners …), line and paragraph separators, private use, surrogates and unassigned code points.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})


def clean_display_name(raw: str) -> str:
    """The name as stored: NFC, single spaces, trimmed.

    Raises:
        ValueError: the name is empty or holds a character that does not show as itself.
    """
    name = " ".join(unicodedata.normalize("NFC", raw).split())  # tabs and line breaks are spaces too
    for char in name:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise ValueError(f"the name holds an invisible or control character (U+{ord(char):04X})")
    if not name:
        raise ValueError("the name is empty")
    return name


def same_name(one: str, other: str) -> bool:
    """Whether two cleaned names would read the same to a person (case aside)."""
    return one.casefold() == other.casefold()
