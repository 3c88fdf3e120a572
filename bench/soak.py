"""Soak run: N WebSocket clients in one meeting for minutes; is every event delivered exactly once?

Starts the project as `meeting serve` does (uvicorn, `meeting.cli:app_from_env`, SQLite in a temporary
data dir, one process) on a live meeting with an active agenda item, a chair and N checked-in delegates,
each delegate on their own account and socket (this process, asyncio). During the run the chair presents:
page turns (2/s) from one socket and pointer positions (20/s) from a second one (the pointer is ephemeral,
may be dropped, and is counted apart); random delegates add shared annotations (5/s, client-generated ids,
acked); every 15 s a delegate asks for the floor, the chair grants it and ends the speech 5 s later; in the
middle the chair opens a secret poll over HTTP, 80 % of the delegates vote over a spread-out window, the
chair closes and publishes it, and the result is compared with what was sent.

Every sequenced event (`seq` > 0) must reach every socket exactly once and in order, from its snapshot's
`seq` to the room's final `seq` (a fresh snapshot after the traffic stops): the counts of lost, duplicated
and out-of-order events (arrived after a higher `seq`; a client following docs/protocol.md ignores those,
so to it they are lost) must all be 0. An event at or below the snapshot's `seq` that arrives after the
snapshot is counted apart: the protocol allows it and the client ignores it. Page-turn latency (presenter
send → client receive, on this process's clock) is reported as p50/p95/p99/max per time window; the
server's RSS and CPU per window and at the start (all clients joined) and the end (all events delivered).
The end RSS must stay within MEMORY_BOUND of the start RSS.

    python bench/soak.py                          # 500 clients, 300 s
    python bench/soak.py --clients 50 --seconds 20

The last line contains `ratio <p99 of the last window ÷ p99 of the first window>` (latency drift over the
run; 1 means none), `lost=`, `dup=` and `out-of-order=`; the exit status is 1 if an event was lost,
duplicated or out of order, an annotation was not acked and stored, the memory bound was exceeded or the
poll's tally did not match.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fanout import cpu_seconds, project_env, rss_bytes, seed_document, start_project
from bench.votes import seed
from meeting.migrations import upgrade
from meeting.settings import Settings
from meeting.users.security import issue_token

TURNS_PER_SECOND = 2
POINTERS_PER_SECOND = 20  # on its own socket: with the turns it would pass the 20 messages/s per socket
ANNOTATIONS_PER_SECOND = 5
SPEAKER_EVERY_SECONDS = 15
VOTING_SHARE = 0.8
MEMORY_BOUND = 1.20  # end RSS ≤ 1.20 × start RSS: the room keeps no per-event state in memory
# As the web client (web/js/room.js): every close but these is followed by a reconnect with lastSeq.
FINAL_CODES = {4401, 4403, 4404, 4429}
POINTER_PREFIX = '{"type":"pointer.move"'  # msgspec writes the tag first: skip decoding the busiest event


class _Shown(msgspec.Struct):
    page: int | None = None


class _Frame(msgspec.Struct):
    """The fields of a server frame the soak looks at; the rest is skipped while decoding."""

    type: str
    seq: int = 0
    ref: str | None = None
    code: int = 0
    detail: str = ""
    you: int = 0
    presenter: _Shown | None = None


_decode = msgspec.json.Decoder(_Frame).decode


@dataclass
class Turns:
    """Page turns sent by the presenter and the latencies of their deliveries, by time window."""

    window_seconds: float
    started: float = 0.0
    sent_at: list[float] = field(default_factory=list)
    latencies: dict[int, list[float]] = field(default_factory=dict)

    def window(self, at: float) -> int:
        """The window a moment of the run falls in."""
        return int((at - self.started) / self.window_seconds)

    def received(self, page: int, at: float) -> None:
        """A client received the turn to `page` (page n is turn n)."""
        sent = self.sent_at[page - 1]
        self.latencies.setdefault(self.window(sent), []).append(at - sent)


@dataclass
class Client:
    """One socket in the room, checking that the sequenced events form a gap-free, duplicate-free run."""

    url: str
    token: str
    turns: Turns
    errors: Counter[int]
    user_id: int = 0
    base_seq: int = 0  # the seq of the first snapshot: the run starts after it
    next_seq: int = 0  # the seq expected next
    gaps: set[int] = field(default_factory=set)
    duplicates: int = 0
    stale: int = 0  # seq not above the first snapshot's: already in it (docs/protocol.md: ignore these)
    late: Counter[str] = field(default_factory=Counter)  # by type: arrived after a higher seq
    overtaken: list[str] = field(default_factory=list)  # the first few of those, for the report
    last_type: str = ""  # of the highest seq so far
    pointers: int = 0
    reconnects: Counter[int | None] = field(default_factory=Counter)  # by the close code that caused them
    closed: int | None = None  # the close code, when the server closed it for good
    stopping: bool = False
    connection: ClientConnection | None = None
    reader: asyncio.Task[None] | None = None
    pending: dict[str, asyncio.Future[_Frame]] = field(default_factory=dict)
    refs: int = 0

    async def join(self) -> None:
        """Open the socket, authenticate, take the snapshot, then read in the background."""
        await self.open(None)
        self.reader = asyncio.create_task(self._read())

    async def open(self, last_seq: int | None) -> None:
        """Connect and authenticate: a snapshot without `last_seq`, else the events after it."""
        connection = await connect(
            self.url, compression=None, max_size=None, open_timeout=120, ping_interval=None
        )
        auth: dict[str, Any] = {"type": "auth", "token": self.token}
        if last_seq is not None:
            auth["lastSeq"] = last_seq
        await connection.send(json.dumps(auth))
        async for raw in connection:
            assert isinstance(raw, str)
            frame = _decode(raw)
            if frame.type == "room.snapshot":
                if last_seq is None:
                    self.user_id, self.base_seq, self.next_seq = frame.you, frame.seq, frame.seq + 1
                else:  # the missed events were no longer kept: they never reached this client
                    self.gaps.update(range(self.next_seq, frame.seq + 1))
                    self.next_seq = max(self.next_seq, frame.seq + 1)
                break
            if frame.type == "room.replayed":
                break
            self._on_message(raw)
        self.connection = connection

    async def _read(self) -> None:
        while True:
            assert self.connection is not None
            with contextlib.suppress(ConnectionClosed):
                async for raw in self.connection:
                    self._on_message(raw)  # type: ignore[arg-type]
            if self.stopping:
                return
            code = self.connection.close_code
            if code in FINAL_CODES:
                self.closed = code
                return
            self.reconnects[code] += 1
            try:
                await self.open(self.next_seq - 1)
            except (OSError, ConnectionClosed, TimeoutError):
                self.closed = code
                return

    def _on_message(self, raw: str) -> None:
        at = time.perf_counter()
        if raw.startswith(POINTER_PREFIX):
            self.pointers += 1
            return
        frame = _decode(raw)
        if frame.seq:
            self._see(frame.seq, frame.type)
        if frame.type == "page.turn" and frame.presenter is not None and frame.presenter.page:
            self.turns.received(frame.presenter.page, at)
        elif frame.type in ("ack", "error") and frame.ref in self.pending:
            self.pending.pop(frame.ref).set_result(frame)  # type: ignore[arg-type]
        elif frame.type == "error":
            self.errors[frame.code] += 1

    def _see(self, seq: int, kind: str) -> None:
        if seq == self.next_seq:
            self.next_seq += 1
            self.last_type = kind
        elif seq > self.next_seq:
            self.gaps.update(range(self.next_seq, seq))
            self.next_seq = seq + 1
            self.last_type = kind
        elif seq in self.gaps:
            self.gaps.discard(seq)
            self.late[kind] += 1
            if len(self.overtaken) < 3:
                self.overtaken.append(f"{kind} {seq} after {self.last_type} {self.next_seq - 1}")
        elif seq <= self.base_seq:
            self.stale += 1
        else:
            self.duplicates += 1

    async def send(self, message: dict[str, Any]) -> None:
        """Send without waiting for the answer (errors are counted as they come)."""
        assert self.connection is not None
        with contextlib.suppress(ConnectionClosed):  # a reconnect is under way: the message is lost
            await self.connection.send(json.dumps(message))

    async def request(self, message: dict[str, Any]) -> _Frame:
        """Send with a `ref` and wait for its `ack` or `error` (an `error` with code 0: no answer)."""
        self.refs += 1
        ref = f"r{self.refs}"
        answer = asyncio.get_running_loop().create_future()
        self.pending[ref] = answer
        await self.send({**message, "ref": ref})
        try:
            return await asyncio.wait_for(answer, 60)
        except TimeoutError:
            return _Frame(type="error", detail="no answer within 60 s")
        finally:
            self.pending.pop(ref, None)

    async def close(self) -> None:
        """Leave the room."""
        self.stopping = True
        if self.connection is not None:
            await self.connection.close()
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.reader, 10)


@dataclass
class Tally:
    """What happened besides the page turns."""

    pointers_sent: int = 0
    annotations_sent: int = 0
    annotation_acks: list[float] = field(default_factory=list)
    annotation_errors: Counter[int] = field(default_factory=Counter)
    speaker_errors: Counter[int] = field(default_factory=Counter)
    poll_lines: list[str] = field(default_factory=list)
    poll_ok: bool = True


def quantiles(values: list[float]) -> tuple[float, float, float, float]:
    """p50, p95, p99 and max, in milliseconds."""
    if not values:
        return (float("nan"),) * 4  # type: ignore[return-value]
    if len(values) == 1:
        return (values[0] * 1000,) * 4  # type: ignore[return-value]
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49] * 1000, q[94] * 1000, q[98] * 1000, max(values) * 1000


async def paced(rate: float, until: float, step: Any) -> None:
    """Call `step(i)` `rate` times a second until `until` (perf_counter), on a fixed schedule.

    Ticks missed while this process was busy are skipped, not sent in a burst: a presenter's hand does
    not catch up either, and a burst would trip the server's per-socket message rate.
    """
    started = time.perf_counter()
    i = 0
    while (at := started + i / rate) < until:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        await step(i)
        i = max(i + 1, int((time.perf_counter() - started) * rate))


async def run_poll(
    http: httpx.AsyncClient,
    meeting_id: int,
    item_id: int,
    chair: dict[str, str],
    voters: list[dict[str, str]],
    voting_seconds: float,
    tally: Tally,
) -> None:
    """Open a secret poll, have the voters cast over `voting_seconds`, close, publish, compare."""
    polls = f"/api/meetings/{meeting_id}/polls"
    created = await http.post(
        polls, headers=chair, json={"itemId": item_id, "question": "Thông qua?", "kind": "secret"}
    )
    created.raise_for_status()
    poll_id = created.json()["id"]
    opened = await http.post(f"{polls}/{poll_id}/open", headers=chair)
    opened.raise_for_status()
    eligible = opened.json()["eligible"]
    sent = [0, 0, 0]
    refused: list[str] = []
    started = time.perf_counter()

    async def vote(headers: dict[str, str]) -> None:
        await asyncio.sleep(random.uniform(0, voting_seconds))  # delegates press at their own pace
        choice = random.randrange(3)
        for attempt in range(20):
            try:
                answer = await http.post(
                    f"{polls}/{poll_id}/ballots", headers=headers, json={"choice": [choice]}
                )
            except httpx.TransportError:  # a dropped keep-alive connection: send again, as a tablet would
                continue
            if answer.status_code == 503:  # database busy: retry shortly; a stored one would 409
                await asyncio.sleep(0.05 * (attempt + 1))
                continue
            if answer.status_code == 200:
                sent[choice] += 1
            else:
                refused.append(f"{answer.status_code} {answer.text[:80]}")
            return
        refused.append("no answer")

    await asyncio.gather(*(vote(h) for h in voters))
    voting = time.perf_counter() - started
    closed = await http.post(f"{polls}/{poll_id}/close", headers=chair)
    closed.raise_for_status()
    published = await http.post(f"{polls}/{poll_id}/publish", headers=chair)
    published.raise_for_status()
    result = published.json()["result"]
    mismatch = []
    if result["counts"] != sent:
        mismatch.append(f"counts {result['counts']} != sent {sent}")
    if result["ballots"] != sum(sent):
        mismatch.append(f"{result['ballots']} ballots counted, {sum(sent)} accepted")
    if refused:
        mismatch.append(f"{len(refused)} refused: {refused[0]}")
    tally.poll_ok = not mismatch
    verdict = "tally ok" if not mismatch else "tally MISMATCH: " + "; ".join(mismatch)
    tally.poll_lines.append(
        f"poll {poll_id} (secret): {eligible} eligible, {sum(sent)} ballots {sent} in {voting:.1f} s, "
        f"result {result['counts']} passed={result['passed']} — {verdict}"
    )


async def soak(args: argparse.Namespace, workdir: Path) -> int:
    """Seed, start the server, join, run the traffic, verify; returns the exit status."""
    settings = Settings(data_dir=workdir, secret_key=secrets.token_urlsafe(48))
    await asyncio.get_running_loop().run_in_executor(None, upgrade, settings)
    meeting_id, item_id, ids = await seed(settings, args.clients)
    document_id, version_id = await seed_document(settings, meeting_id)
    key = settings.resolved_secret_key()

    def token(name: str) -> str:
        return issue_token(key, ids[name], 0, 2 * 3600)[0]

    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process, base_url, pid = await start_project(project_env(settings, {}), log)
    url = f"{base_url}/api/meetings/{meeting_id}/socket"
    http_url = base_url.replace("ws://", "http://")
    window_seconds = args.seconds / args.windows
    turns = Turns(window_seconds)
    errors: Counter[int] = Counter()
    tally = Tally()
    delegates = [f"delegate{i:03d}" for i in range(args.clients)]
    clients: list[Client] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    try:
        async with httpx.AsyncClient(base_url=http_url, timeout=120, limits=limits) as http:
            presenter = Client(url, token("chair"), turns, errors)
            pointer = Client(url, token("chair"), turns, errors)
            clients = [presenter, pointer]
            joined = time.perf_counter()
            await presenter.join()
            await pointer.join()
            # The chair presents from the start, so the pointer's first positions are not refused.
            chosen = await presenter.request({"type": "presenter.set", "userId": presenter.user_id})
            assert chosen.type == "ack", chosen
            audience = [Client(url, token(name), turns, errors) for name in delegates]
            for start in range(0, len(audience), 50):  # in batches, like a room filling up
                batch = audience[start : start + 50]
                await asyncio.gather(*(c.join() for c in batch))
                clients += batch
            joined = time.perf_counter() - joined
            await asyncio.sleep(2.0)  # let the joins' presence events settle before the baseline
            rss_start, cpu_start = rss_bytes(pid), cpu_seconds(pid)
            own_start = cpu_seconds(os.getpid())
            print(
                f"{len(clients)} sockets joined in {joined:.1f} s; server RSS {rss_start / 2**20:.1f} MiB, "
                f"CPU {cpu_start:.1f} s so far; load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )
            samples: list[tuple[float, int, float]] = []  # server CPU, RSS, own CPU at each window's end

            turns.started = time.perf_counter()
            until = turns.started + args.seconds

            async def turn(_: int) -> None:
                turns.sent_at.append(time.perf_counter())
                await presenter.send(
                    {
                        "type": "page.turn",
                        "documentId": document_id,
                        "versionId": version_id,
                        "page": len(turns.sent_at),
                        "viewport": {"x": 0, "y": 0, "zoom": 1},
                    }
                )

            async def point(_: int) -> None:
                tally.pointers_sent += 1
                await pointer.send({"type": "pointer.move", "x": random.random(), "y": random.random()})

            annotating: set[asyncio.Task[None]] = set()

            async def annotate_one(client: Client, page: int) -> None:
                sent = time.perf_counter()
                answer = await client.request(
                    {
                        "type": "annotation.add",
                        "id": str(uuid.uuid4()),
                        "documentId": document_id,
                        "versionId": version_id,
                        "page": page,
                        "kind": "highlight",
                        "visibility": "shared",
                        "payload": {"rects": [[0.1, 0.2, 0.5, 0.23]]},
                    }
                )
                if answer.type == "ack":
                    tally.annotation_acks.append(time.perf_counter() - sent)
                else:
                    tally.annotation_errors[answer.code] += 1

            async def annotate(_: int) -> None:
                tally.annotations_sent += 1
                task = asyncio.create_task(annotate_one(random.choice(audience), max(1, len(turns.sent_at))))
                annotating.add(task)
                task.add_done_callback(annotating.discard)

            async def speakers(_: int) -> None:
                speaker = random.choice(audience)
                for client, message in (
                    (speaker, {"type": "speaker.request"}),
                    (presenter, {"type": "speaker.grant", "userId": speaker.user_id}),
                    (presenter, {"type": "speaker.end"}),
                ):
                    answer = await client.request(message)
                    if answer.type == "error":
                        tally.speaker_errors[answer.code] += 1
                    await asyncio.sleep(1.0 if message["type"] == "speaker.request" else 5.0)

            async def sample(_: int) -> None:
                if turns.started + 0.5 < time.perf_counter():  # the first call is at the start itself
                    samples.append((cpu_seconds(pid), rss_bytes(pid), cpu_seconds(os.getpid())))

            async def poll() -> None:
                await asyncio.sleep(args.seconds * 0.4)
                chair = {"Authorization": f"Bearer {token('chair')}"}
                voters = [
                    {"Authorization": f"Bearer {token(name)}"}
                    for name in random.sample(delegates, round(len(delegates) * VOTING_SHARE))
                ]
                await run_poll(http, meeting_id, item_id, chair, voters, min(30.0, args.seconds * 0.2), tally)

            await asyncio.gather(
                paced(TURNS_PER_SECOND, until, turn),
                paced(POINTERS_PER_SECOND, until, point),
                paced(ANNOTATIONS_PER_SECOND, until, annotate),
                paced(1 / SPEAKER_EVERY_SECONDS, until - 7, speakers),
                paced(1 / window_seconds, until + 1e-3, sample),
                poll(),
            )
            if annotating:
                await asyncio.gather(*annotating)
            traffic = time.perf_counter() - turns.started

            # The room's last seq, from a fresh snapshot (the chair has sockets open: no presence event).
            probe = Client(url, token("chair"), turns, errors)
            await probe.open(None)
            final = probe.next_seq - 1
            await probe.close()
            deadline = time.perf_counter() + 60
            while time.perf_counter() < deadline and any(
                c.next_seq - 1 < final and c.closed is None for c in clients
            ):
                await asyncio.sleep(0.1)
            drained = time.perf_counter() - turns.started - traffic
            rss_end, cpu_end = rss_bytes(pid), cpu_seconds(pid)
            own_end = cpu_seconds(os.getpid())
            stored = await http.get(
                f"/api/meetings/{meeting_id}/documents/{document_id}/versions/{version_id}/annotations",
                headers={"Authorization": f"Bearer {token('chair')}"},
            )
            stored.raise_for_status()
            stored_count = sum(len(p["annotations"]) for p in stored.json()["pages"])
    except Exception:
        print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)  # the server's side of it
        raise
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        process.terminate()
        process.wait(20)

    # ------------------------------------------------------------------------------------------ report
    print("\nwindow    turns   p50 ms   p95 ms   p99 ms   max ms   server CPU   RSS MiB   client CPU")
    previous_cpu, previous_own = cpu_start, own_start
    p99s = []
    for w in range(args.windows):
        values = turns.latencies.get(w, [])
        p50, p95, p99, top = quantiles(values)
        p99s.append(p99)
        cpu, rss, own = samples[w] if w < len(samples) else (float("nan"), 0, float("nan"))
        share = (cpu - previous_cpu) / window_seconds * 100
        own_share = (own - previous_own) / window_seconds * 100
        previous_cpu, previous_own = cpu, own
        span = f"{w * window_seconds:.0f}-{(w + 1) * window_seconds:.0f} s"
        print(
            f"{span:>9} {len(values):>7} {p50:8.1f} {p95:8.1f} {p99:8.1f} {top:8.1f} "
            f"{share:10.0f} % {rss / 2**20:9.1f} {own_share:10.0f} %"
        )
    everything = [v for values in turns.latencies.values() for v in values]
    p50, p95, p99, top = quantiles(everything)
    print(f"{'all':>9} {len(everything):>7} {p50:8.1f} {p95:8.1f} {p99:8.1f} {top:8.1f}")

    lost = sum(len(c.gaps) + max(0, final - (c.next_seq - 1)) for c in clients)
    duplicated = sum(c.duplicates for c in clients)
    stale = sum(c.stale for c in clients)
    late_types = sum((c.late for c in clients), Counter[str]())
    late = late_types.total()
    expected = sum(final - c.base_seq for c in clients)
    closed = Counter(c.closed for c in clients if c.closed is not None)
    reconnects = sum((c.reconnects for c in clients), Counter[int | None]())
    turn_deliveries = len(turns.sent_at) * len(clients)
    print(
        f"\nsequenced events: room seq {final} at the end; {expected} deliveries expected over "
        f"{len(clients)} sockets; lost {lost}, duplicated {duplicated}, out of order {late}; "
        f"drained {drained:.1f} s after the traffic stopped; {stale} arrived after the snapshot that "
        f"already held them (allowed)"
    )
    if late:
        examples = next(c.overtaken for c in clients if c.overtaken)
        print(f"out of order by type: {dict(late_types)}; e.g. {', '.join(examples)}")
    print(f"page turns: {len(turns.sent_at)} sent, {len(everything)}/{turn_deliveries} deliveries measured")
    print(
        f"sockets: {reconnects.total()} reconnects with lastSeq (by close code: {dict(reconnects) or '-'}), "
        f"closed for good {dict(closed) or 'none'}"
    )
    print(f"errors received: {dict(errors) or 'none'}")
    pointer_deliveries = sum(c.pointers for c in clients)
    print(
        f"pointer (ephemeral, not counted as lost): {tally.pointers_sent} sent, {pointer_deliveries} "
        f"deliveries of {tally.pointers_sent * len(clients)} "
        f"({pointer_deliveries / max(1, tally.pointers_sent * len(clients)) * 100:.1f} %)"
    )
    a50, _, a99, _ = quantiles(tally.annotation_acks)
    print(
        f"annotations (shared): {tally.annotations_sent} sent, {len(tally.annotation_acks)} acked "
        f"(p50 {a50:.0f} ms, p99 {a99:.0f} ms), errors {dict(tally.annotation_errors) or 'none'}, "
        f"{stored_count} stored"
    )
    print(f"speaker requests: errors {dict(tally.speaker_errors) or 'none'}")
    for line in tally.poll_lines or ["poll: did not run"]:
        print(line)
    growth = rss_end / rss_start
    memory_ok = growth <= MEMORY_BOUND
    print(
        f"server: RSS {rss_start / 2**20:.1f} MiB at start, {rss_end / 2**20:.1f} MiB at end "
        f"(×{growth:.3f}; bound ×{MEMORY_BOUND:.2f}: {'PASS' if memory_ok else 'FAIL'}); "
        f"CPU {cpu_end - cpu_start:.1f} s over {traffic:.0f} s "
        f"({(cpu_end - cpu_start) / traffic * 100:.0f} % of a core); load client (this process) "
        f"{(own_end - own_start) / traffic * 100:.0f} % of a core"
    )
    problems = [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if line.startswith(("WARNING", "ERROR", "CRITICAL")) or "Traceback" in line
    ]
    if args.server_log:
        shutil.copyfile(log_path, args.server_log)
    print(f"server log: {len(problems)} warnings or errors{': ' + problems[-1] if problems else ''}")
    print(f"load average {Path('/proc/loadavg').read_text().strip()} on {os.cpu_count()} cores")
    annotations_ok = stored_count == len(tally.annotation_acks) == tally.annotations_sent
    drift = p99s[-1] / p99s[0]
    ok = lost == 0 and duplicated == 0 and late == 0 and memory_ok and tally.poll_ok and annotations_ok
    print(
        f"soak N={args.clients} {args.seconds:.0f} s: lost={lost} dup={duplicated} out-of-order={late} "
        f"page-turn p99 {p99s[0]:.0f} ms first window, {p99s[-1]:.0f} ms last, ratio {drift:.2f}; "
        f"RSS ×{growth:.2f} ({'PASS' if memory_ok else 'FAIL'}); "
        f"{'tally ok' if tally.poll_ok else 'tally MISMATCH'}; {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


def main() -> int:
    """Parse arguments, run in a temporary data dir, return the exit status."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=500, help="delegate sockets (default 500)")
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the traffic (default 300)")
    parser.add_argument("--windows", type=int, default=10, help="latency windows (default 10)")
    parser.add_argument("--server-log", help="keep a copy of the server's log at this path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        return uvloop.run(soak(args, Path(tmp)))  # as the server: the load client must not be the bottleneck


if __name__ == "__main__":
    sys.exit(main())
