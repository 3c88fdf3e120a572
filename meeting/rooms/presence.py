"""Who has a socket open in which meeting, across server processes.

Without Redis this process's own counts are the whole truth. With Redis every process mirrors its counts
into one hash per meeting (field `<process>:<user>`) and beats a heartbeat in a sorted set. Readers add up
only the fields of processes whose heartbeat is fresh, so the sockets of a process killed with SIGKILL
stop counting within PROCESS_TTL_SECONDS (they would otherwise hold users "connected" and eat their socket
cap for ever); the first survivor to notice deletes its fields and announces the users who left with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from meeting.broker import Broker

log = logging.getLogger("meeting.rooms")

HEARTBEAT_SECONDS = 5.0
# Three missed heartbeats: a process stalled by a long GC pause or a busy core is not declared dead.
PROCESS_TTL_SECONDS = 15.0


def _text(value: object) -> str:
    """A Redis reply item as text (the client returns bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)


class Presence:
    """Open sockets per user and meeting; `on_gone(meeting_id, user_id)` is awaited for users whose last
    socket was on a process that died."""

    def __init__(self, broker: Broker, on_gone: Callable[[int, int], Awaitable[None]]) -> None:
        self.broker = broker
        self.on_gone = on_gone
        self.process = secrets.token_hex(8)
        self.counts: dict[tuple[int, int], int] = {}
        # A Redis write failed (outage): the next heartbeat rewrites this process's fields from `counts`.
        self.stale_mirror = False
        self.heartbeat: asyncio.Task[None] | None = None
        self.closed = False  # shutting down: sockets still closing count locally only

    # ---------------------------------------------------------------------------------------- keys

    def _meeting_key(self, meeting_id: int) -> str:
        return f"{self.broker.namespace}:presence:{meeting_id}"

    def _processes_key(self) -> str:
        return f"{self.broker.namespace}:presence:processes"

    def _meetings_of_key(self, process: str) -> str:
        return f"{self.broker.namespace}:presence:process:{process}"

    # ------------------------------------------------------------------------------------- reading

    async def connected(self, meeting_id: int) -> set[int]:
        """Users with at least one open socket in the meeting."""
        if self.broker.redis is not None:
            try:
                return set(await self._live_counts(meeting_id))
            except (RedisError, OSError) as exc:
                log.warning("redis unavailable, presence counted in this process only: %s", exc)
        return {u for (m, u), n in self.counts.items() if m == meeting_id and n > 0}

    async def _live_processes(self) -> set[str]:
        assert self.broker.redis is not None
        members = await self.broker.redis.zrangebyscore(
            self._processes_key(), time.time() - PROCESS_TTL_SECONDS, "+inf"
        )
        return {_text(m) for m in members}

    async def _live_counts(self, meeting_id: int, *, others_only: bool = False) -> dict[int, int]:
        """Open sockets per user of the meeting, summed over the processes that are alive (or over the
        other live processes only)."""
        assert self.broker.redis is not None
        fields = await self.broker.redis.hgetall(self._meeting_key(meeting_id))
        live = await self._live_processes()
        if others_only:
            live.discard(self.process)
        totals: dict[int, int] = {}
        for name, value in fields.items():
            process, _, user = _text(name).partition(":")
            if process in live and int(value) > 0:
                totals[int(user)] = totals.get(int(user), 0) + int(value)
        return totals

    # ------------------------------------------------------------------------------------- writing

    async def add(self, meeting_id: int, user_id: int, delta: int) -> int:
        """Change this process's count; returns the user's count over all live processes (this process's
        own while Redis is away)."""
        value = self.counts.get((meeting_id, user_id), 0) + delta
        if value > 0:
            self.counts[(meeting_id, user_id)] = value
        else:
            self.counts.pop((meeting_id, user_id), None)
        local = max(value, 0)
        if self.broker.redis is None or self.closed:
            return local
        if self.heartbeat is None:
            self.heartbeat = asyncio.create_task(self._beat())
        try:
            await self._mirror(meeting_id, user_id, local)
            # This process's part is `local`, as of this change: what the mirror holds by now may
            # already include later joins, which would make two sockets joining at once both look late.
            return local + (await self._live_counts(meeting_id, others_only=True)).get(user_id, 0)
        except (RedisError, OSError) as exc:  # joining and leaving go on; presence is only a hint
            log.warning("redis unavailable, presence counted in this process only: %s", exc)
            self.stale_mirror = True
            return local

    async def _mirror(self, meeting_id: int, user_id: int, value: int) -> None:
        """Write one of this process's counts (absolute, not an increment: a lost write heals itself)."""
        assert self.broker.redis is not None
        field = f"{self.process}:{user_id}"
        async with self.broker.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._processes_key(), {self.process: time.time()})
            pipe.sadd(self._meetings_of_key(self.process), str(meeting_id))
            if value > 0:
                pipe.hset(self._meeting_key(meeting_id), field, str(value))
            else:
                pipe.hdel(self._meeting_key(meeting_id), field)
            await pipe.execute()

    async def _rewrite_mirror(self) -> None:
        """Replace every field of this process with the local counts (after a Redis outage)."""
        assert self.broker.redis is not None
        redis = self.broker.redis
        meetings = {int(m) for m in await redis.smembers(self._meetings_of_key(self.process))}
        meetings |= {m for m, _ in self.counts}
        prefix = f"{self.process}:"
        for meeting_id in meetings:
            key = self._meeting_key(meeting_id)
            mine = [f for f in await redis.hkeys(key) if _text(f).startswith(prefix)]
            async with redis.pipeline(transaction=True) as pipe:
                if mine:
                    pipe.hdel(key, *mine)
                for (m, user_id), value in self.counts.items():
                    if m == meeting_id:
                        pipe.hset(key, f"{prefix}{user_id}", str(value))
                pipe.sadd(self._meetings_of_key(self.process), str(meeting_id))
                await pipe.execute()

    # --------------------------------------------------------------------------- heartbeat, sweeping

    async def _beat(self) -> None:
        """Keep this process alive in Redis; heal the mirror after an outage; sweep dead processes."""
        assert self.broker.redis is not None
        while True:
            try:
                await self.broker.redis.zadd(self._processes_key(), {self.process: time.time()})
                if self.stale_mirror:
                    await self._rewrite_mirror()
                    self.stale_mirror = False
                await self._sweep()
            except (RedisError, OSError) as exc:
                log.warning("redis unavailable, presence heartbeat skipped: %s", exc)
                self.stale_mirror = True
            except Exception:  # the heartbeat must outlive any one bad round
                log.exception("presence heartbeat failed")
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def _sweep(self) -> None:
        """Remove the fields of processes whose heartbeat stopped; announce who is gone with them."""
        assert self.broker.redis is not None
        redis = self.broker.redis
        dead = await redis.zrangebyscore(self._processes_key(), "-inf", time.time() - PROCESS_TTL_SECONDS)
        for member in dead:
            process = _text(member)
            if not await redis.zrem(self._processes_key(), process):
                continue  # another survivor is sweeping it
            meetings = [int(m) for m in await redis.smembers(self._meetings_of_key(process))]
            for meeting_id in meetings:
                key = self._meeting_key(meeting_id)
                theirs = [f for f in await redis.hkeys(key) if _text(f).startswith(f"{process}:")]
                if not theirs:
                    continue
                await redis.hdel(key, *theirs)
                log.warning(
                    "server process %s stopped beating: its %d users in meeting %d are gone",
                    process,
                    len(theirs),
                    meeting_id,
                )
                still_here = await self._live_counts(meeting_id)
                for name in theirs:
                    user_id = int(_text(name).partition(":")[2])
                    if user_id not in still_here:
                        try:
                            await self.on_gone(meeting_id, user_id)
                        except Exception:  # the others still get announced; snapshots are right anyway
                            log.exception("could not announce user %d left meeting %d", user_id, meeting_id)
            await redis.delete(self._meetings_of_key(process))

    async def close(self) -> None:
        """Stop beating and take this process's counts out of Redis (a graceful shutdown)."""
        self.closed = True
        if self.heartbeat is None:
            return
        self.heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.heartbeat
        self.heartbeat = None
        assert self.broker.redis is not None
        self.counts.clear()
        with contextlib.suppress(RedisError, OSError):
            await self._rewrite_mirror()
            await self.broker.redis.zrem(self._processes_key(), self.process)
            await self.broker.redis.delete(self._meetings_of_key(self.process))
