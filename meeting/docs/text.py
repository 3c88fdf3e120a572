"""Pure text rules for search: Vietnamese-aware folding, matching and highlighted snippets."""

from __future__ import annotations

import functools
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


# A word: a run of letters and digits (Vietnamese syllables are words), as SQLite FTS5's unicode61
# tokenizer and PostgreSQL's parser split them; "_" and punctuation separate.
_WORD = re.compile(r"[^\W_]+")
# A page whose words carry the query's exact diacritics outranks every page that only matches folded:
# the exact part of the score is worth more than any folded count reaches.
EXACT_WEIGHT = 1000


def words(text: str) -> list[str]:
    """The folded words of a text, in order, repeats kept."""
    return _WORD.findall(fold(text))


def terms(query: str) -> list[str]:
    """The folded words of a query, without duplicates, in order."""
    seen: list[str] = []
    for word in words(query):
        if word not in seen:
            seen.append(word)
    return seen


@functools.lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    return fold(word)


def _exact(word: str) -> str | None:
    """The word as typed (NFC, lower case) when it carries diacritics, else None: any spelling will do."""
    exact = unicodedata.normalize("NFC", word).lower()
    return exact if exact != _fold_word(exact) else None


def exact_words(query: str) -> list[str]:
    """The words of a query typed with diacritics (NFC, as typed), without duplicates, in order."""
    seen: list[str] = []
    for word in _WORD.findall(unicodedata.normalize("NFC", query)):
        if _exact(word) is not None and word not in seen:
            seen.append(word)
    return seen


def _query_words(query: str) -> list[tuple[str, str | None]]:
    """Each word of the query: its folded form and its exact form (None where typed without diacritics)."""
    typed = _WORD.findall(unicodedata.normalize("NFC", query))
    return [(_fold_word(word), _exact(word)) for word in typed if _fold_word(word)]


def _edged(pattern: str) -> str:
    return _EDGE_BEFORE + "(?:" + pattern + ")" + _EDGE_AFTER


@functools.lru_cache(maxsize=256)
def _patterns(
    query: str,
) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str] | None, re.Pattern[str] | None]:
    """A query's regular expressions: any word, the phrase (folded), any exact word, the exact phrase."""
    asked = _query_words(query)
    phrase = [word for word, _ in asked]
    wanted = sorted(set(phrase), key=len, reverse=True)
    any_word = re.compile(_edged("|".join(map(re.escape, wanted))))
    whole = re.compile(_edged(_GAP.join(map(re.escape, phrase))))
    exact = sorted({e for _, e in asked if e is not None}, key=len, reverse=True)
    if not exact:
        return any_word, whole, None, None
    exact_word = re.compile(_edged("|".join(map(re.escape, exact))))
    # A word typed without diacritics may be spelled any way: any word there, checked by folding.
    pieces = [re.escape(e) if e is not None else r"([^\W_]+)" for _, e in asked]
    return any_word, whole, exact_word, re.compile(_edged(_GAP.join(pieces)))


def rank(text: str, query: str, folded: str | None = None) -> tuple[int, int]:
    """(exact, folded) rank of a page for a query, compared as a pair: exact first.

    Folded: 10 per hit of the whole phrase plus 1 per hit of each word, whole words only ("thu" is not
    in "thuc"). Exact: the same counts where every word typed with diacritics appears with exactly
    those diacritics ("đậm thử" is not "đảm thư"); 0 when the query has none.
    """
    asked = _query_words(query)
    if not asked:
        return 0, 0
    any_word, whole, exact_word, exact_whole = _patterns(query)
    folded = folded if folded is not None else fold(text)
    folded_rank = 10 * len(whole.findall(folded)) + len(any_word.findall(folded))
    if exact_word is None or exact_whole is None or not folded_rank:
        return 0, folded_rank
    spelled = unicodedata.normalize("NFC", text).lower()
    loose = [word for word, exact in asked if exact is None]
    exact_phrases = 0
    for match in exact_whole.finditer(spelled):
        if [_fold_word(word) for word in match.groups()] == loose:
            exact_phrases += 1
    return 10 * exact_phrases + len(exact_word.findall(spelled)), folded_rank


def score(text: str, query: str, folded: str | None = None) -> int:
    """`rank` as one number for the API: exact × EXACT_WEIGHT + folded (capped below the weight)."""
    exact, folded_rank = rank(text, query, folded)
    return exact * EXACT_WEIGHT + min(folded_rank, EXACT_WEIGHT - 1)


class _FlatTable(dict[int, str]):
    """str.translate's table folding one character to one (lower case, no diacritics, đ → d), so the
    folded copy has the original's indices; filled as characters are first met."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = _fold_char(char)
        self[code] = folded if len(folded) == 1 else char
        return self[code]


_FLAT = _FlatTable()
_GAP = r"[\W_]+"
_EDGE_BEFORE = r"(?<![^\W_])"
_EDGE_AFTER = r"(?![^\W_])"


def snippet(text: str, query: str, radius: int = 80) -> str:
    """An HTML-escaped excerpt around the best hit, whole words hit wrapped in <mark>; "" without a hit.

    The window is centred on the first hit of the whole phrase, else of the first word found; words
    next to each other (a phrase) share one <mark>.
    """
    phrase = [word for word, _ in _query_words(query)]
    if not phrase:
        return ""
    text = unicodedata.normalize("NFC", text)
    flat = text.translate(_FLAT)  # same length as text: an index in one is an index in the other
    wanted = sorted(set(phrase), key=len, reverse=True)
    any_word = re.compile(_EDGE_BEFORE + "(?:" + "|".join(map(re.escape, wanted)) + ")" + _EDGE_AFTER)
    whole = re.compile(_EDGE_BEFORE + _GAP.join(map(re.escape, phrase)) + _EDGE_AFTER)
    first = whole.search(flat) or any_word.search(flat)
    if first is None:
        return ""
    window_start = max(0, first.start() - radius)
    window_end = min(len(text), first.end() + radius)
    # Whole words only, never cut: the window grows to the word boundaries it falls in.
    while window_start > 0 and _WORD.match(text, window_start - 1) and _WORD.match(text, window_start):
        window_start -= 1
    while window_end < len(text) and _WORD.match(text, window_end - 1) and _WORD.match(text, window_end):
        window_end += 1
    spans: list[tuple[int, int]] = []
    for match in any_word.finditer(flat, window_start, window_end):
        begin, end = match.span()
        if spans and not text[spans[-1][1] : begin].strip():
            spans[-1] = (spans[-1][0], end)  # only spaces between: one mark for the phrase
        else:
            spans.append((begin, end))

    def piece(begin: int, end: int) -> str:
        return html.escape(_SPACES.sub(" ", text[begin:end])) if begin < end else ""

    parts: list[str] = []
    cursor = window_start
    for begin, end in spans:
        parts.append(piece(cursor, begin))
        parts.append(f"<mark>{piece(begin, end)}</mark>")
        cursor = end
    parts.append(piece(cursor, window_end))
    prefix = "… " if text[:window_start].strip() else ""
    suffix = " …" if text[window_end:].strip() else ""
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
