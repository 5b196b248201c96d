"""What the sync and the async client share: settings and the ``track``/``usage``/``request`` API.

Building an event and putting it in the queue is all that happens on the caller's thread.
"""

from __future__ import annotations

import os
from typing import Any

from streamgauge_client._delivery import (
    BATCH_PATH,
    ClientStats,
    Reporter,
    RetryPolicy,
    encode_batch,
    request_headers,
)
from streamgauge_client._events import REQUEST_EVENT, USAGE_EVENT, build_event
from streamgauge_client._queue import EventQueue
from streamgauge_client._types import ErrorCallback, Event, Properties, Timestamp

DEFAULT_URL = "http://127.0.0.1:8787"


class BaseClient:
    """Settings, the event-building API and the counters; subclasses own the sending."""

    def __init__(
        self,
        url: str | None = None,
        write_key: str | None = None,
        *,
        batch_size: int = 100,
        flush_interval: float = 1.0,
        max_queue_size: int = 10_000,
        gzip: bool = True,
        timeout: float = 10.0,
        max_retries: int = 10,
        backoff_base: float = 0.2,
        backoff_max: float = 30.0,
        shutdown_timeout: float = 5.0,
        on_error: ErrorCallback | None = None,
        enabled: bool = True,
    ) -> None:
        base = url or os.environ.get("STREAMGAUGE_URL") or DEFAULT_URL
        self.url = base.rstrip("/")
        self.write_key = write_key or os.environ.get("STREAMGAUGE_WRITE_KEY")
        self.endpoint = self.url + BATCH_PATH
        self.flush_interval = flush_interval
        self.timeout = timeout
        self.shutdown_timeout = shutdown_timeout
        self.enabled = enabled
        self.compress = gzip
        self.policy = RetryPolicy(
            max_retries=max_retries, backoff_base=backoff_base, backoff_max=backoff_max
        )
        self.headers = request_headers(self.write_key, compress=gzip)
        self._reporter = Reporter(on_error)
        self._queue = EventQueue(
            max_size=max_queue_size, batch_size=batch_size, on_batch_ready=self._wake
        )
        self._closed = False

    # -- the public API ---------------------------------------------------------------------

    def track(
        self,
        event: str,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        organization_id: str | None = None,
        session_id: str | None = None,
        properties: Properties | None = None,
        timestamp: Timestamp | None = None,
        event_id: str | None = None,
    ) -> str:
        """Queue one event for delivery; returns its id (a UUIDv7 unless ``event_id`` given)."""
        body = build_event(
            event,
            user_id=user_id,
            anonymous_id=anonymous_id,
            organization_id=organization_id,
            session_id=session_id,
            properties=properties,
            timestamp=timestamp,
            event_id=event_id,
        )
        self.enqueue(body)
        return str(body["id"])

    def usage(
        self,
        sku: str,
        quantity: float,
        *,
        unit: str | None = None,
        organization_id: str | None = None,
        user_id: str | None = None,
        properties: Properties | None = None,
        timestamp: Timestamp | None = None,
        event_id: str | None = None,
        event: str = USAGE_EVENT,
    ) -> str:
        """Queue a usage event (``usage.tracked``) for billing; returns its id."""
        body = build_event(
            event,
            user_id=user_id,
            organization_id=organization_id,
            properties=properties,
            timestamp=timestamp,
            event_id=event_id,
        )
        usage: dict[str, Any] = {"quantity": quantity, "sku": sku}
        if unit is not None:
            usage["unit"] = unit
        body["usage"] = usage
        self.enqueue(body)
        return str(body["id"])

    def request(
        self,
        method: str,
        path: str,
        status_code: int,
        duration_ms: float,
        *,
        error: str | None = None,
        user_id: str | None = None,
        organization_id: str | None = None,
        session_id: str | None = None,
        properties: Properties | None = None,
        timestamp: Timestamp | None = None,
        event: str = REQUEST_EVENT,
    ) -> str:
        """Queue an ``api.request`` event; ``path`` should be the route template."""
        props: dict[str, Any] = {"method": method, "route": path}
        if properties:
            props.update(properties)
        body = build_event(
            event,
            user_id=user_id,
            organization_id=organization_id,
            session_id=session_id,
            properties=props,
            timestamp=timestamp,
        )
        performance: dict[str, Any] = {"duration": duration_ms, "statusCode": status_code}
        if error is not None:
            performance["error"] = error
        body["performance"] = performance
        self.enqueue(body)
        return str(body["id"])

    def enqueue(self, event: Event) -> None:
        """Queue an event already in the wire shape; never blocks, never raises."""
        if not self.enabled:
            return
        if self._closed:
            self._queue.dropped += 1
            return
        self._queue.put(event)
        self._ensure_sender()

    @property
    def stats(self) -> ClientStats:
        r = self._reporter
        return ClientStats(
            sent=r.sent,
            dropped=self._queue.dropped,
            retried=r.retried,
            failed=r.failed,
            rejected=r.rejected,
            queued=len(self._queue),
        )

    # -- for subclasses ----------------------------------------------------------------------

    def _encode(self, events: list[Event]) -> bytes:
        return encode_batch(events, compress=self.compress)

    def _wake(self) -> None:
        raise NotImplementedError

    def _ensure_sender(self) -> object:
        raise NotImplementedError
