"""Pure text rules for search: Vietnamese-aware folding, matching and highlighted snippets."""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import quote

# Đ/đ is a letter of its own in Unicode (no decomposition), so NFD alone would keep it.
_SPECIAL = {"đ": "d", "Đ": "d", "ð": "d"}
_SPACES = re.compile(r"\s+")


def _fold_char(char: str) -> str:
    if char in _SPECIAL:
        return _SPECIAL[char]
    if char.isspace():
        return " "
    decomposed = unicodedata.normalize("NFD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """Fold text (see `fold`) and map each folded character back to its index in `text`."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if folded == " " and (not out or out[-1] == " "):
            continue  # runs of whitespace and line breaks become one space, so phrases match across lines
        for piece in folded:
            out.append(piece)
            origin.append(index)
    return "".join(out), origin


def fold(text: str) -> str:
    """Lower case, strip diacritics (NFD minus combining marks), đ → d, collapse whitespace."""
    return fold_with_map(text)[0].strip()


def terms(query: str) -> list[str]:
    """The folded words of a query, without duplicates, in order."""
    seen: list[str] = []
    for word in fold(query).split(" "):
        if word and word not in seen:
            seen.append(word)
    return seen


def score(folded_text: str, query: str) -> int:
    """Rank of a page for a query: whole-phrase hits weigh most, then each word's hits."""
    phrase = fold(query)
    if not phrase:
        return 0
    return 10 * folded_text.count(phrase) + sum(folded_text.count(term) for term in terms(query))


def snippet(text: str, query: str, radius: int = 80) -> str:
    """An HTML-escaped excerpt around the first hit, hits wrapped in <mark>; "" without a hit."""
    folded, origin = fold_with_map(text)
    phrase = fold(query)
    needles = [phrase, *terms(query)] if phrase else []
    start = -1
    for needle in needles:
        start = folded.find(needle)
        if start >= 0:
            break
    if start < 0:
        return ""
    window_start = max(0, start - radius)
    window_end = min(len(folded), start + len(phrase) + radius)
    # Every hit of every word inside the window, merged into non-overlapping spans.
    spans: list[tuple[int, int]] = []
    for needle in needles:
        position = folded.find(needle, window_start)
        while 0 <= position < window_end:
            spans.append((position, min(position + len(needle), window_end)))
            position = folded.find(needle, position + 1)
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))

    # Back to the original text: a folded span covers the original characters it came from.
    def original(folded_index: int) -> int:
        return origin[folded_index] if folded_index < len(origin) else len(text)

    def piece(begin: int, end: int) -> str:
        return html.escape(_SPACES.sub(" ", text[begin:end])) if begin < end else ""

    parts: list[str] = []
    cursor = original(window_start)
    for begin, end in merged:
        o_begin, o_end = original(begin), original(end - 1) + 1
        parts.append(piece(cursor, o_begin))
        parts.append(f"<mark>{piece(o_begin, o_end)}</mark>")
        cursor = o_end
    parts.append(piece(cursor, original(window_end - 1) + 1))
    prefix = "… " if window_start > 0 else ""
    suffix = " …" if window_end < len(folded) else ""
    return prefix + "".join(parts).strip() + suffix


def ascii_fallback(name: str) -> str:
    """An ASCII stand-in for a file name (diacritics dropped, đ → d), safe inside a quoted header value."""
    plain = "".join(
        "D" if c == "Đ" else "d" if c == "đ" else c
        for c in unicodedata.normalize("NFKD", name)
        if not unicodedata.combining(c)
    )
    safe = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in plain)
    return safe or "document.pdf"


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII `filename` for old clients and the exact UTF-8 `filename*` for the rest."""
    return f"{disposition}; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"
