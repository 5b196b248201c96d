"""Reading a JetStream stream from a sequence: ephemeral pull consumers as cursors.

A ``Cursor`` is an ephemeral, unacknowledged, in-memory pull consumer
positioned after a stream sequence, with its own inbox. ``fetch`` asks for
what is there now (``no_wait``), ``wait`` lingers up to a timeout for the next
message and keeps it for the following ``fetch`` — so ``wait_beyond`` costs no
polling. Every request waits for its own end (the batch filled, or a
404/408 status), so no stale answer can reach a later request; when an answer
does not come (server restarted, consumer gone) the cursor is closed and the
caller opens a new one at the same position.

**A slow answer is not a dead server.** Delivering a large backlog can take
longer than ``_ANSWER_GRACE_S`` when the reading process or the server is
short of CPU (measured in the cluster test on two shared cores: a sink
restarted behind ~10 k messages of its partition received 600–1,500 of a
20,000-message batch in 2 s). Such a read returns what arrived, and its cursor
is retired (the request is still open at the server, so the cursor cannot be
reused); the next read continues after the last message returned. Throwing
the partial answer away instead re-asked for the same batch from the same
position forever, while the backlog grew: the stall of issue 10.

``Cursors`` keeps the cursors of one link keyed by position, so a reader that
continues where it stopped reuses its consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from dataclasses import dataclass

import msgspec
import nats
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from streamgauge.log.jetstream_link import JetStreamLink, LogUnavailable

_ANSWER_GRACE_S = 2.0  # beyond a request's own expiry, before the server counts as gone
_INACTIVE_S = 60.0  # the server deletes a cursor's consumer after this long unused
_MAX_CURSORS = 8


@dataclass(frozen=True, slots=True)
class Delivered:
    """A message read from the stream: its sequence and payload."""

    seq: int
    data: bytes


def stream_sequence(reply: str) -> int:
    """The stream sequence in a delivered message's ack subject.

    ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>...`` (9 tokens), or
    with domain and account hash (12 or more tokens).
    """
    tokens = reply.split(".")
    return int(tokens[5] if len(tokens) == 9 else tokens[7])


class Cursor:
    """An ephemeral pull consumer reading ``stream`` (optionally one subject) after ``position``."""

    def __init__(self, link: JetStreamLink, stream: str, subject: str | None, position: int):
        self.link = link
        self.stream = stream
        self.subject = subject
        self.position = position
        self.buffered: list[Delivered] = []
        self._consumer = ""
        self._inbox = ""
        self._sub: Subscription | None = None
        self._answer: list[Delivered] = []
        self._want = 0
        self._ended = asyncio.Event()
        self._status = ""
        self.retired = False  # a request of this cursor is still open: never reuse it

    async def open(self) -> None:
        nc = self.link.nc
        if not self.link.connected or nc is None:
            raise LogUnavailable(
                f"the event log (JetStream) is unavailable: {self.link.last_error}"
            )
        from_start = self.position == 0
        config = ConsumerConfig(
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL if from_start else DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=None if from_start else self.position + 1,
            filter_subject=self.subject,
            inactive_threshold=_INACTIVE_S,
            mem_storage=True,
            num_replicas=1,
        )  # fmt: skip
        try:
            info = await nc.jetstream().add_consumer(self.stream, config)
            self._inbox = nc.new_inbox()
            self._sub = await nc.subscribe(self._inbox, cb=self._on_message)
        except (nats.errors.Error, OSError, TimeoutError) as error:
            raise LogUnavailable(f"JetStream could not open a reader: {error}") from None
        self._consumer = info.name or ""

    async def _on_message(self, msg: Msg) -> None:
        status = msg.headers.get("Status") if msg.headers else None
        if status is None and msg.reply:
            self._answer.append(Delivered(stream_sequence(msg.reply), msg.data))
            if len(self._answer) >= self._want:
                self._ended.set()
        elif status != "100":  # 404 no messages, 408 expired, 409 consumer gone...
            self._status = status or ""
            self._ended.set()

    async def _request(self, batch: int, *, expires_s: float | None) -> list[Delivered]:
        nc = self.link.nc
        if nc is None or not self.link.connected:
            raise LogUnavailable(
                f"the event log (JetStream) is unavailable: {self.link.last_error}"
            )
        self._answer, self._want, self._status = [], batch, ""
        self._ended.clear()
        request: dict[str, object] = {"batch": batch}
        if expires_s is None:
            request["no_wait"] = True
        else:
            request["expires"] = int(expires_s * 1e9)
        subject = f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self._consumer}"
        await nc.publish(subject, msgspec.json.encode(request), reply=self._inbox)
        try:
            async with asyncio.timeout((expires_s or 0.0) + _ANSWER_GRACE_S):
                await self._ended.wait()
        except TimeoutError:
            if not self._answer:
                raise LogUnavailable("JetStream did not answer a read") from None
            self.retired = True  # slow, not gone: keep what arrived (see the module docstring)
        if self._status not in ("", "404", "408"):
            raise LogUnavailable(f"JetStream ended a read with status {self._status}")
        answer = self._answer
        if answer:
            self.position = answer[-1].seq
        return answer

    async def fetch(self, limit: int) -> list[Delivered]:
        """Up to ``limit`` messages available now (buffered ones first)."""
        taken, self.buffered = self.buffered[:limit], self.buffered[limit:]
        if len(taken) < limit and not self.buffered:
            taken += await self._request(limit - len(taken), expires_s=None)
        return taken

    async def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a message; keep it for the next fetch."""
        if not self.buffered:
            self.buffered = await self._request(1, expires_s=max(timeout, 0.001))
        return bool(self.buffered)

    @property
    def next_position(self) -> int:
        """Where a reader continuing from this cursor stands (before its buffered messages)."""
        return self.buffered[0].seq - 1 if self.buffered else self.position

    async def close(self) -> None:
        nc = self.link.nc
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
        if nc is not None and self._consumer and self.link.connected:
            with contextlib.suppress(Exception):
                await nc.jetstream().delete_consumer(self.stream, self._consumer)


class Cursors:
    """The open cursors of one link, by (stream, subject, position); runs on the link's loop."""

    def __init__(self, link: JetStreamLink) -> None:
        self.link = link
        self._generation = link.generation
        self._idle: OrderedDict[tuple[str, str | None, int], Cursor] = OrderedDict()

    async def _take(self, stream: str, subject: str | None, position: int) -> Cursor:
        if self._generation != self.link.generation:  # reconnected: cursors may be gone
            self._generation = self.link.generation
            await self.close()
        cursor = self._idle.pop((stream, subject, position), None)
        if cursor is None:
            cursor = Cursor(self.link, stream, subject, position)
            await cursor.open()
        return cursor

    async def _give_back(self, cursor: Cursor) -> None:
        if cursor.retired:
            await cursor.close()
            return
        self._idle[(cursor.stream, cursor.subject, cursor.next_position)] = cursor
        while len(self._idle) > _MAX_CURSORS:
            _, oldest = self._idle.popitem(last=False)
            await oldest.close()

    async def fetch(
        self, stream: str, subject: str | None, position: int, limit: int
    ) -> list[Delivered]:
        cursor = await self._take(stream, subject, position)
        try:
            delivered = await cursor.fetch(limit)
        except BaseException:  # unavailable, or the caller gave up (cancelled): not reusable
            await asyncio.shield(cursor.close())
            raise
        await self._give_back(cursor)
        return delivered

    async def wait(self, stream: str, subject: str | None, position: int, timeout: float) -> bool:
        cursor = await self._take(stream, subject, position)
        try:
            arrived = await cursor.wait(timeout)
        except BaseException:
            await asyncio.shield(cursor.close())
            raise
        await self._give_back(cursor)
        return arrived

    async def close(self) -> None:
        while self._idle:
            _, cursor = self._idle.popitem()
            await cursor.close()
