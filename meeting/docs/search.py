"""Search over pages' text: one query for a meeting's panel and for every meeting a user may see.

The database finds and pre-ranks candidates through its full-text index over the folded text
(migration 0012): on SQLite an FTS5 table kept by triggers on `document_pages`, on PostgreSQL a GIN
index on `to_tsvector('simple', folded)`. The pure rules of `text` then rank the best candidates
exactly (whole words, exact diacritics first) and cut the snippets. Query words reach the database
only as quoted FTS5 strings or through `plainto_tsquery`, so no character of a query is syntax.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    tuple_,
)

from meeting.agenda.models import Meeting, Participant
from meeting.docs import text as textrules
from meeting.docs.models import Document, DocumentPage, DocumentVersion
from meeting.docs.schemas import SearchHit
from meeting.errors import Code, InvalidInput
from meeting.users.models import GlobalRole

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from meeting.docs.models import DocumentClassification
    from meeting.users.models import User

    # document, title, classification, meeting, meeting title, version, page
    _Pages = Select[int, str, DocumentClassification, int, str, int, int]


MAX_QUERY = 200
MAX_WORDS = 10
# Candidates pre-ranked by the index (exact spellings first, then bm25) that the exact rules rank
# again: as many as the hits returned, since ranking a page in Python costs more than the index does.
RANK_ROWS = 50
SEARCH_HITS = 50
# The FTS5 row of page (version, number) is version × 2^20 + number: MEETING_MAX_PAGES stays far below.
PAGE_BITS = 20
FTS_TABLE = "document_pages_fts"
_fts = table(FTS_TABLE, column("rowid", Integer), column(FTS_TABLE, String))


@dataclasses.dataclass(frozen=True)
class SearchFilter:
    """Where to search: the meetings a user may see, narrowed by meeting and start date.

    A body (council, committee) becomes one more field here and one more condition in `_scope`.
    """

    meeting_id: int | None = None
    starts_from: dt.datetime | None = None
    starts_before: dt.datetime | None = None


def _query_words(query: str) -> list[str]:
    words = textrules.terms(query[:MAX_QUERY])[:MAX_WORDS]
    if not words:
        raise InvalidInput(Code.SEARCH_QUERY_EMPTY, "type at least one letter or digit to search")
    return words


def _quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _scope(statement: _Pages, user: User, where: SearchFilter) -> _Pages:
    # The same rule as reading a document: a participant of its meeting (any role; confidential
    # documents are stamped on download, not hidden from participants), every meeting for an admin.
    conditions: list[ColumnElement[bool]] = [Document.deleted_at.is_(None)]
    if user.role != GlobalRole.admin:
        mine = select(Participant.meeting_id).where(Participant.user_id == user.id)
        conditions.append(Document.meeting_id.in_(mine))
    if where.meeting_id is not None:
        conditions.append(Document.meeting_id == where.meeting_id)
    if where.starts_from is not None:
        conditions.append(Meeting.starts_at >= where.starts_from)
    if where.starts_before is not None:
        conditions.append(Meeting.starts_at < where.starts_before)
    return statement.where(*conditions)


def _columns() -> _Pages:
    # No text here: the ranked query may sort thousands of matches; only the best get their text.
    return select(
        Document.id,
        Document.title,
        Document.classification,
        Document.meeting_id,
        Meeting.title,
        DocumentPage.version_id,
        DocumentPage.number,
    )


def _joined(statement: _Pages) -> _Pages:
    # Through the version's primary key to its document: documents have no index on current_version_id.
    return (
        statement.join(DocumentVersion, DocumentVersion.id == DocumentPage.version_id)
        .join(
            Document,
            and_(
                Document.id == DocumentVersion.document_id,
                Document.current_version_id == DocumentPage.version_id,
            ),
        )
        .join(Meeting, Meeting.id == Document.meeting_id)
    )


def _sqlite(match: str) -> _Pages:
    rowid = _fts.c.rowid
    index = _fts.c[FTS_TABLE]
    return (
        _joined(
            _columns()
            .select_from(_fts)
            .join(
                DocumentPage,
                and_(
                    DocumentPage.version_id == rowid.op(">>")(PAGE_BITS),
                    DocumentPage.number == rowid.op("&")((1 << PAGE_BITS) - 1),
                ),
            )
        )
        .where(index.op("MATCH")(match))
        .order_by(func.bm25(index, 1.0, 10.0), rowid)
    )


def fts_queries(query: str) -> list[str]:
    """The FTS5 MATCH expressions, in turn: pages spelling every word typed with diacritics as typed,
    then every page holding the folded words. Each word is a quoted string: never syntax."""
    words = _query_words(query)
    found = "folded : (" + " AND ".join(_quoted(word) for word in words) + ")"
    spelled = [word.lower() for word in textrules.exact_words(query[:MAX_QUERY])][:MAX_WORDS]
    if not spelled:
        return [found]
    return [f"{found} AND spelled : (" + " AND ".join(_quoted(word) for word in spelled) + ")", found]


def _postgresql(query: str) -> _Pages:
    _query_words(query)
    # The very expression of the GIN index (migration 0012), so the planner uses it.
    simple: ColumnElement[str] = literal_column("'simple'")
    vector = func.to_tsvector(simple, DocumentPage.folded)
    wanted = func.plainto_tsquery(simple, textrules.fold(query[:MAX_QUERY]))
    bonus: ColumnElement[int] = literal(0)
    for word in textrules.exact_words(query[:MAX_QUERY])[:MAX_WORDS]:
        # Spelled as typed, in the usual cases: the page's text is not lowered in the database.
        spellings = sorted({word.lower(), word.upper(), word.capitalize()})
        found = or_(*(DocumentPage.text.contains(s, autoescape=True) for s in spellings))
        bonus = bonus + case((found, 1), else_=0)
    return (
        _joined(_columns().select_from(DocumentPage))
        .where(vector.op("@@")(wanted))
        .order_by(
            bonus.desc(), func.ts_rank(vector, wanted).desc(), DocumentPage.version_id, DocumentPage.number
        )
    )


async def search(session: AsyncSession, user: User, query: str, where: SearchFilter) -> list[SearchHit]:
    """Pages holding every word of the query as whole words, best first, that the user may read.

    Raises:
        InvalidInput: the query has no letter or digit (`search.query_empty`).
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if dialect == "postgresql":
        statements = [_postgresql(query)]
    else:
        statements = [_sqlite(match) for match in fts_queries(query)]
    found: dict[tuple[int, int], tuple[int, str, DocumentClassification, int, str, int, int]] = {}
    for statement in statements:
        rows = await session.execute(_scope(statement, user, where).limit(RANK_ROWS))
        for row in rows.all():
            found.setdefault((row[5], row[6]), row)
        if len(found) >= RANK_ROWS:
            break
    keys = list(found)[:RANK_ROWS]
    texts: dict[tuple[int, int], tuple[str, str]] = {}
    if keys:
        pages = await session.execute(
            select(
                DocumentPage.version_id, DocumentPage.number, DocumentPage.text, DocumentPage.folded
            ).where(tuple_(DocumentPage.version_id, DocumentPage.number).in_(keys))
        )
        texts = {(version, number): (text, folded) for version, number, text, folded in pages.all()}
    ranked = sorted(
        (
            (textrules.score(texts[key][0], query, texts[key][1]), found[key])
            for key in keys
            if key in texts
        ),
        key=lambda pair: (-pair[0], pair[1][0], pair[1][6]),
    )
    return [
        SearchHit(
            document_id=document_id,
            version_id=version_id,
            title=title,
            page=number,
            snippet=textrules.snippet(texts[(version_id, number)][0], query),
            score=score,
            meeting_id=meeting_id,
            meeting_title=meeting_title,
            classification=classification,
        )
        for score, (
            document_id,
            title,
            classification,
            meeting_id,
            meeting_title,
            version_id,
            number,
        ) in ranked[:SEARCH_HITS]
    ]
