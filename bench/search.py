"""Benchmark: search over 10 000 pages on SQLite, against the former LIKE search in the same run.

    .venv/bin/python bench/search.py                  # 10 000 pages, 40 rounds of the queries
    .venv/bin/python bench/search.py --pages 2000 --rounds 10

Seeds a migrated SQLite file in a temporary directory with one meeting whose documents hold N pages of
varied Vietnamese text (sentences recombined from the demo's council resolution, plus numbers, places
and names), then runs a mix of queries (common and rare words, with and without diacritics, phrases,
nothing found) through `meeting.docs.search.search` as a delegate: the FTS5 index, the exact re-ranking
and the snippets, as the server does them. The baseline runs the same queries the way search worked
before the index: `folded LIKE '%word%'` per word, up to 2000 rows, each ranked and the best 50 cut into
snippets by today's rules. Prints p50 and p99 of both and their ratio; the last line is the summary.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.votes import seed  # noqa: E402
from meeting.db import create_engine, create_session_factory, utcnow  # noqa: E402
from meeting.docs import text as textrules  # noqa: E402
from meeting.docs.models import Document, DocumentPage, DocumentVersion  # noqa: E402
from meeting.docs.sample import COMMON  # noqa: E402
from meeting.docs.search import SearchFilter, search  # noqa: E402
from meeting.migrations import upgrade  # noqa: E402
from meeting.settings import Settings  # noqa: E402
from meeting.users.models import User  # noqa: E402

PAGES_PER_DOCUMENT = 20
PLACES = ["xã Hòa Bình", "thị trấn Đông Anh", "xã Tân Lập", "phường Quang Trung", "xã Đại Mạch", "xã Vân Nội"]
NAMES = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Cường", "Phạm Thu Hà", "Đặng Quốc Việt"]
QUERIES = [
    "ngân sách",
    "ngan sach",
    "đầu tư công",
    "giai phong mat bang",
    "huyện",
    "Hội đồng nhân dân huyện",
    "chuyển đổi số",
    "quyết định số 4711",
    "xa hoa binh",
    "Trần Thị Bích",
    "đậm thử",
    "an sinh xã hội được bảo đảm",
]


def sentences(rng: random.Random) -> list[str]:
    """Sentences of a council's papers: the demo's paragraphs cut, recombined and given numbers."""
    words = " ".join(COMMON).replace(";", "").replace(".", "").split()
    out: list[str] = []
    for _ in range(400):
        start = rng.randrange(len(words) - 30)
        phrase = " ".join(words[start : start + rng.randint(8, 24)])
        extra = rng.choice(
            [
                f"Quyết định số {rng.randint(1, 9999)}/QĐ-UBND",
                f"tại {rng.choice(PLACES)}",
                f"do đồng chí {rng.choice(NAMES)} trình bày",
                f"đạt {rng.randint(50, 130)},{rng.randint(0, 9)}% kế hoạch",
                "",
            ]
        )
        out.append(f"{phrase[0].upper()}{phrase[1:]} {extra}".strip() + ".")
    return out


async def fill(settings: Settings, pages: int, seed_value: int) -> tuple[int, int]:
    """One meeting with `pages` pages of text; returns (meeting id, a delegate's user id)."""
    meeting_id, _item, ids = await seed(settings, 3)
    rng = random.Random(seed_value)
    pool = sentences(rng)
    engine = create_engine(settings)
    async with engine.begin() as conn:
        documents = -(-pages // PAGES_PER_DOCUMENT)
        for number in range(documents):
            document_id = (
                await conn.execute(
                    insert(Document)
                    .values(meeting_id=meeting_id, title=f"Tài liệu {number + 1}", created_at=utcnow())
                    .returning(Document.id)
                )
            ).scalar_one()
            count = min(PAGES_PER_DOCUMENT, pages - number * PAGES_PER_DOCUMENT)
            version_id = (
                await conn.execute(
                    insert(DocumentVersion)
                    .values(
                        document_id=document_id,
                        number=1,
                        sha256=f"{number:064x}",
                        size_bytes=1,
                        page_count=count,
                        rendered_pages=0,
                        file_name=f"tai-lieu-{number + 1}.pdf",
                        created_at=utcnow(),
                    )
                    .returning(DocumentVersion.id)
                )
            ).scalar_one()
            await conn.execute(
                Document.__table__.update()
                .where(Document.id == document_id)
                .values(current_version_id=version_id)
            )
            rows = []
            for page in range(1, count + 1):
                text = "\n".join(rng.sample(pool, rng.randint(14, 22)))  # ~2 KB, an A4 page of prose
                rows.append(
                    {
                        "version_id": version_id,
                        "number": page,
                        "width_pt": 595.0,
                        "height_pt": 842.0,
                        "has_text": True,
                        "text": text,
                        "folded": textrules.fold(text),
                    }
                )
            await conn.execute(insert(DocumentPage), rows)
    await engine.dispose()
    return meeting_id, ids["delegate000"]


async def baseline(session: object, meeting_id: int, query: str) -> int:
    """The former search: LIKE per folded word over the meeting's current pages, ranked in Python."""
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    words = textrules.terms(query)[:10]
    rows = await session.execute(
        select(Document.id, DocumentPage.number, DocumentPage.text, DocumentPage.folded)
        .join(DocumentPage, DocumentPage.version_id == Document.current_version_id)
        .where(
            Document.meeting_id == meeting_id,
            Document.deleted_at.is_(None),
            *(DocumentPage.folded.contains(word, autoescape=True) for word in words),
        )
        .limit(2000)
    )
    ranked = sorted(
        ((textrules.score(text, query, folded), doc, page, text) for doc, page, text, folded in rows.all()),
        key=lambda row: (-row[0], row[1], row[2]),
    )
    return len([textrules.snippet(text, query) for _, _, _, text in ranked[:50]])


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the sorted values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(settings: Settings, pages: int, rounds: int) -> str:
    """Seed, warm up, measure both; returns the summary line."""
    if True:
        started = time.perf_counter()
        meeting_id, user_id = await fill(settings, pages, 12)
        print(f"seeded {pages} pages in {time.perf_counter() - started:.1f} s")
        engine = create_engine(settings)
        factory = create_session_factory(engine)
        times: dict[str, list[float]] = {"index": [], "like": []}
        per_query: dict[str, list[float]] = {q: [] for q in QUERIES}
        hits: dict[str, int] = {}
        async with factory() as session:
            user = await session.get(User, user_id)
            assert user is not None
            for round_number in range(rounds + 1):
                for query in QUERIES:
                    t0 = time.perf_counter()
                    found = await search(session, user, query, SearchFilter())
                    t1 = time.perf_counter()
                    await baseline(session, meeting_id, query)
                    t2 = time.perf_counter()
                    if round_number == 0:  # warm-up: caches, statements, the fold cache
                        hits[query] = len(found)
                        continue
                    times["index"].append((t1 - t0) * 1000)
                    times["like"].append((t2 - t1) * 1000)
                    per_query[query].append((t1 - t0) * 1000)
        await engine.dispose()
    for query in QUERIES:
        print(f"  {query!r:34} {hits[query]:3} hits  p50 {statistics.median(per_query[query]):6.1f} ms")
    figures = {name: (percentile(v, 0.5), percentile(v, 0.99)) for name, v in times.items()}
    for name, (p50, p99) in figures.items():
        print(f"{name:6} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms")
    ratio = figures["like"][0] / figures["index"][0]
    return (
        f"search over {pages} pages: p50 {figures['index'][0]:.1f} ms, p99 {figures['index'][1]:.1f} ms "
        f"(LIKE baseline p50 {figures['like'][0]:.1f} ms, p99 {figures['like'][1]:.1f} ms), ratio {ratio:.2f}"
    )


def main() -> None:
    """Parse arguments, run, print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        upgrade(settings)  # before the event loop: Alembic runs its own
        print(asyncio.run(run(settings, args.pages, args.rounds)))


if __name__ == "__main__":
    main()
