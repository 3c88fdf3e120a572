"""Search index over the folded page text: FTS5 on SQLite (kept by triggers), GIN on PostgreSQL.

Revision ID: 0012_search
Revises: 0009_originals
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0012_search"
down_revision = "0011_speaking_time"
branch_labels = None
depends_on = None

# A page's FTS5 row is version × 2^20 + number (meeting/docs/search.py PAGE_BITS).
_ROWID = "{row}.version_id * 1048576 + {row}.number"

_SQLITE = [
    # Contentless: the text stays in document_pages; the index holds only the words. `folded` is
    # matched, `spelled` (the text as written; unicode61 lowers it, keeping diacritics) ranks.
    "CREATE VIRTUAL TABLE document_pages_fts USING fts5("
    "folded, spelled, content='', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER document_pages_fts_insert AFTER INSERT ON document_pages BEGIN "
    "INSERT INTO document_pages_fts(rowid, folded, spelled) "
    f"VALUES ({_ROWID.format(row='new')}, new.folded, new.text); END",
    # A contentless table forgets a row only when told its old values.
    "CREATE TRIGGER document_pages_fts_delete AFTER DELETE ON document_pages BEGIN "
    "INSERT INTO document_pages_fts(document_pages_fts, rowid, folded, spelled) "
    f"VALUES ('delete', {_ROWID.format(row='old')}, old.folded, old.text); END",
    # Text recognised later (OCR) or corrected: the old words out, the new in.
    "CREATE TRIGGER document_pages_fts_update AFTER UPDATE OF text, folded ON document_pages BEGIN "
    "INSERT INTO document_pages_fts(document_pages_fts, rowid, folded, spelled) "
    f"VALUES ('delete', {_ROWID.format(row='old')}, old.folded, old.text); "
    "INSERT INTO document_pages_fts(rowid, folded, spelled) "
    f"VALUES ({_ROWID.format(row='new')}, new.folded, new.text); END",
    "INSERT INTO document_pages_fts(rowid, folded, spelled) "
    f"SELECT {_ROWID.format(row='document_pages')}, folded, text FROM document_pages",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE:
            op.execute(statement)
    else:
        # An expression index: PostgreSQL keeps it with every write, existing rows included.
        op.execute(
            "CREATE INDEX ix_document_pages_search ON document_pages "
            "USING gin (to_tsvector('simple', folded))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS document_pages_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS document_pages_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_document_pages_search")
