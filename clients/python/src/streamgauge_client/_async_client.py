"""``AsyncClient``: the asyncio client. One task, ``streamgauge-client-sender``, sends.

``track``/``usage``/``request`` are plain methods (queuing never waits) and are safe from any
thread, e.g. a sync endpoint in a thread pool; ``flush`` and ``close`` are coroutines. The task
starts on the first event queued inside a running loop. Events still queued when the
interpreter exits without ``close()`` are sent by a short-lived thread-based ``Client``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import logging
import time
import weakref
from types import TracebackType
from typing import Any

import httpx

from streamgauge_client._base import BaseClient
from streamgauge_client._delivery import Send, deliver
from streamgauge_client._errors import DeliveryError
from streamgauge_client._types import Event

logger = logging.getLogger("streamgauge_client")


class AsyncClient(BaseClient):
    """The same surface as ``Client`` for asyncio apps; ``transport`` replaces the network."""

    def __init__(
        self,
        url: str | None = None,
        write_key: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(url, write_key, **options)
        self._options = options
        self._transport = transport
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Event | None = None
        self._interrupt: asyncio.Event | None = None
        self._flush_waiters: list[asyncio.Future[None]] = []
        self._stopping = False
        self._deadline: float | None = None
        self._atexit = functools.partial(_send_leftovers_at_exit, weakref.ref(self))
        atexit.register(self._atexit)

    async def flush(self, timeout: float | None = None) -> bool:
        """Deliver everything queued so far; ``False`` if ``timeout`` passed first."""
        if self._ensure_sender() is None:
            return len(self._queue) == 0
        done = asyncio.get_running_loop().create_future()
        self._flush_waiters.append(done)
        self._wake()
        try:
            await asyncio.wait_for(asyncio.shield(done), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self, timeout: float | None = None) -> None:
        """Drain the queue (at most ``timeout``, default ``shutdown_timeout``) and stop."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self._atexit)
        wait = self.shutdown_timeout if timeout is None else timeout
        self._deadline = time.monotonic() + wait
        self._stopping = True
        task = self._ensure_sender(force=True)
        if task is None:
            return
        self._wake()
        if self._interrupt is not None:
            self._interrupt.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), wait + self.timeout)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- the sender task ---------------------------------------------------------------------

    def _wake(self) -> None:
        loop, wakeup = self._loop, self._wakeup
        if loop is None or wakeup is None:
            return
        # RuntimeError: that loop is closed; the next event starts a new task.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(wakeup.set)

    def _ensure_sender(self, *, force: bool = False) -> asyncio.Task[None] | None:
        task = self._task
        if task is not None and not task.done():
            return task
        if self._closed and not force:
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # queued from a thread: the task starts from the loop later
            return None
        self._loop = loop
        self._wakeup = asyncio.Event()
        self._interrupt = asyncio.Event()
        self._task = loop.create_task(self._run(), name="streamgauge-client-sender")
        return self._task

    async def _run(self) -> None:
        assert self._wakeup is not None
        wakeup = self._wakeup
        async with httpx.AsyncClient(
            transport=self._transport, timeout=self.timeout, headers=self.headers
        ) as http:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), self.flush_interval)
                wakeup.clear()
                waiters, self._flush_waiters = self._flush_waiters, []
                stopping = self._stopping
                try:
                    await self._drain(http)
                    self._reporter.dropped(self._queue.dropped)
                except Exception:  # the sender must outlive any bug in one cycle
                    logger.exception("streamgauge sender cycle failed")
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
                if stopping:
                    return

    async def _drain(self, http: httpx.AsyncClient) -> None:
        while batch := self._queue.take():
            if self._deadline is not None and time.monotonic() >= self._deadline:
                self._reporter.gave_up(
                    DeliveryError(
                        f"shutting down: {len(batch)} events undelivered",
                        event_count=len(batch),
                        retryable=True,
                    )
                )
                continue
            await self._deliver(http, batch)

    async def _deliver(self, http: httpx.AsyncClient, batch: list[Event]) -> None:
        plan = deliver(batch, policy=self.policy, reporter=self._reporter, encode=self._encode)
        action = next(plan)
        while True:
            reply: httpx.Response | httpx.HTTPError | bool
            if isinstance(action, Send):
                try:
                    reply = await http.post(
                        self.endpoint, content=action.body, timeout=self._timeout()
                    )
                except httpx.HTTPError as error:
                    reply = error
            else:
                reply = await self._back_off(action.seconds)
            try:
                action = plan.send(reply)
            except StopIteration:
                return

    async def _back_off(self, seconds: float) -> bool:
        """Sleep ``seconds``; ``True`` means give up, as shutting down leaves too little time."""
        end = time.monotonic() + seconds
        if self._deadline is None and self._interrupt is not None:
            try:
                await asyncio.wait_for(self._interrupt.wait(), seconds)
            except TimeoutError:
                return False
        deadline = self._deadline
        if deadline is not None and end > deadline:
            return True
        await asyncio.sleep(max(0.0, end - time.monotonic()))
        return False

    def _timeout(self) -> float:
        if self._deadline is None:
            return self.timeout
        return max(0.05, min(self.timeout, self._deadline - time.monotonic()))


def _send_leftovers_at_exit(ref: weakref.ref[AsyncClient]) -> None:
    """At exit the loop is gone: hand what is still queued to a thread-based ``Client``."""
    from streamgauge_client._client import Client

    client = ref()
    if client is None or client._closed or not len(client._queue):
        return
    leftovers: list[Event] = []
    while batch := client._queue.take():
        leftovers += batch
    if client._transport is not None:  # a custom async transport cannot be driven without a loop
        client._reporter.gave_up(
            DeliveryError(
                f"exiting: {len(leftovers)} events undelivered (call close())",
                event_count=len(leftovers),
            )
        )
        return
    with Client(client.url, client.write_key, **client._options) as sync:
        for event in leftovers:
            sync.enqueue(event)
    sync_stats = sync.stats
    client._reporter.sent += sync_stats.sent
    client._reporter.failed += sync_stats.failed
