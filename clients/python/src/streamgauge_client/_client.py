"""``Client``: the thread-based client. One daemon thread, ``streamgauge-client-sender``, sends.

The caller only appends to the queue. The sender wakes when a batch is full, every
``flush_interval`` seconds, on ``flush()`` and on ``close()``; it drains the whole queue in
batches, each delivered by the shared rules in ``_delivery``. ``close()`` (also run at exit)
drains with a deadline, then counts what is left as failed.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import threading
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


class Client(BaseClient):
    """Sends events from a background thread; every method returns without waiting on I/O
    except ``flush()`` and ``close()``.

    ``transport`` replaces the network (e.g. ``httpx.MockTransport`` in tests).
    """

    def __init__(
        self,
        url: str | None = None,
        write_key: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        **options: Any,
    ) -> None:
        super().__init__(url, write_key, **options)
        self._transport = transport
        self._wakeup = threading.Event()
        self._interrupt = threading.Event()
        self._state_lock = threading.Lock()
        self._flush_requests: list[threading.Event] = []
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._deadline: float | None = None
        self._atexit = functools.partial(_close_at_exit, weakref.ref(self))
        atexit.register(self._atexit)
        _live_clients.add(self)

    def flush(self, timeout: float | None = None) -> bool:
        """Deliver everything queued so far; ``False`` if ``timeout`` passed first."""
        if self._thread is None:
            return len(self._queue) == 0
        done = threading.Event()
        with self._state_lock:
            self._flush_requests.append(done)
        self._wakeup.set()
        return done.wait(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Drain the queue (at most ``timeout``, default ``shutdown_timeout``) and stop."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            self._stopping = True
            wait = self.shutdown_timeout if timeout is None else timeout
            self._deadline = time.monotonic() + wait
            thread = self._thread
        atexit.unregister(self._atexit)
        if thread is None and len(self._queue):
            thread = self._start_thread()
        if thread is not None:
            self._wakeup.set()
            self._interrupt.set()
            thread.join(wait + self.timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the sender thread -------------------------------------------------------------------

    def _wake(self) -> None:
        self._wakeup.set()

    def _ensure_sender(self) -> None:
        if self._thread is None:
            with self._state_lock:
                if self._thread is None and not self._closed:
                    self._start_thread()

    def _start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="streamgauge-client-sender", daemon=True)
        self._thread = thread
        thread.start()
        return thread

    def _run(self) -> None:
        with httpx.Client(
            transport=self._transport, timeout=self.timeout, headers=self.headers
        ) as http:
            while True:
                self._wakeup.wait(self.flush_interval)
                self._wakeup.clear()
                with self._state_lock:
                    waiters, self._flush_requests = self._flush_requests, []
                    stopping = self._stopping
                try:
                    self._drain(http)
                    self._reporter.dropped(self._queue.dropped)
                except Exception:  # the sender must outlive any bug in one cycle
                    logger.exception("streamgauge sender cycle failed")
                for waiter in waiters:
                    waiter.set()
                if stopping:
                    return

    def _drain(self, http: httpx.Client) -> None:
        while batch := self._queue.take():
            if self._past_deadline():
                self._give_up(batch)
                continue
            self._deliver(http, batch)

    def _deliver(self, http: httpx.Client, batch: list[Event]) -> None:
        plan = deliver(batch, policy=self.policy, reporter=self._reporter, encode=self._encode)
        action = next(plan)
        while True:
            reply: httpx.Response | httpx.HTTPError | bool
            if isinstance(action, Send):
                try:
                    reply = http.post(self.endpoint, content=action.body, timeout=self._timeout())
                except httpx.HTTPError as error:
                    reply = error
            else:
                reply = self._back_off(action.seconds)
            try:
                action = plan.send(reply)
            except StopIteration:
                return

    def _back_off(self, seconds: float) -> bool:
        """Sleep ``seconds``; ``True`` means give up, as shutting down leaves too little time."""
        end = time.monotonic() + seconds
        if self._deadline is None and not self._interrupt.wait(seconds):
            return False
        deadline = self._deadline
        if deadline is not None and end > deadline:
            return True
        time.sleep(max(0.0, end - time.monotonic()))
        return False

    def _timeout(self) -> float:
        if self._deadline is None:
            return self.timeout
        return max(0.05, min(self.timeout, self._deadline - time.monotonic()))

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _give_up(self, batch: list[Event]) -> None:
        self._reporter.gave_up(
            DeliveryError(
                f"shutting down: {len(batch)} events undelivered",
                event_count=len(batch),
                retryable=True,
            )
        )

    def _reset_after_fork(self) -> None:
        """In a forked child: no sender thread yet, and the parent's queued events stay its own."""
        self._state_lock = threading.Lock()
        self._queue.reset_after_fork()
        self._thread = None
        self._flush_requests = []


def _close_at_exit(ref: weakref.ref[Client]) -> None:
    client = ref()
    if client is not None:
        client.close()


_live_clients: weakref.WeakSet[Client] = weakref.WeakSet()


def _reset_clients_after_fork() -> None:
    for client in list(_live_clients):
        client._reset_after_fork()


os.register_at_fork(after_in_child=_reset_clients_after_fork)
