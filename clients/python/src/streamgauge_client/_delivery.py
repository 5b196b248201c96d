"""Delivering one batch: every decision (retry, back off, split, give up) and no I/O.

``deliver()`` is a generator that yields what to do next — ``Send`` a body, ``Wait`` some
seconds — and is sent back what happened. The sync and the async client each drive it with
their own HTTP client and sleep, so the retry rules exist once.
"""

from __future__ import annotations

import enum
import gzip
import json
import logging
import random
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from streamgauge_client._errors import DeliveryError
from streamgauge_client._types import ErrorCallback, Event

logger = logging.getLogger("streamgauge_client")

BATCH_PATH = "/events/batch"


@dataclass(frozen=True, slots=True)
class Send:
    """POST ``body`` (holding ``event_count`` events); reply with the response or the error."""

    body: bytes
    event_count: int


@dataclass(frozen=True, slots=True)
class Wait:
    """Back off for ``seconds``; reply ``True`` to give up now (shutting down), else ``False``."""

    seconds: float


Action = Send | Wait
Reply = httpx.Response | httpx.HTTPError | bool


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    SPLIT = "split"
    TERMINAL = "terminal"


def classify(status_code: int) -> Outcome:
    """2xx delivered; 413 split the batch; 408/425/429/5xx transient; other 4xx terminal."""
    if 200 <= status_code < 300:
        return Outcome.DELIVERED
    if status_code == 413:
        return Outcome.SPLIT
    if status_code in (408, 425, 429) or status_code >= 500:
        return Outcome.RETRY
    return Outcome.TERMINAL


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP-date)."""
    if not value:
        return None
    try:
        seconds = float(value)
        return max(0.0, seconds)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter; a server's ``Retry-After`` wins (up to a cap)."""

    max_retries: int = 10
    backoff_base: float = 0.2
    backoff_max: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before retry number ``attempt + 1`` (``attempt`` counts from 0)."""
        if retry_after is not None:
            wait = min(retry_after, self.max_retry_after)
            return wait + random.uniform(0, min(1.0, wait * 0.1))
        ceiling = min(self.backoff_max, self.backoff_base * 2.0**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def encode_batch(events: list[Event], *, compress: bool) -> bytes:
    """A JSON array, gzipped when ``compress``; unknown values are sent as text, never fail."""
    raw = json.dumps(events, separators=(",", ":"), default=str).encode()
    return gzip.compress(raw, compresslevel=5) if compress else raw


def request_headers(write_key: str | None, *, compress: bool) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "streamgauge-client/0.1"}
    if compress:
        headers["Content-Encoding"] = "gzip"
    if write_key:
        headers["Authorization"] = f"Bearer {write_key}"
    return headers


@dataclass(frozen=True, slots=True)
class ClientStats:
    """Event counts since the client started.

    ``sent``: acknowledged by the server (accepted or recognised as duplicates);
    ``dropped``: discarded because the queue was full; ``retried``: HTTP requests sent again;
    ``failed``: given up on (terminal answer, retries exhausted, or undelivered at close);
    ``rejected``: refused one by one inside an accepted batch; ``queued``: waiting now.
    """

    sent: int
    dropped: int
    retried: int
    failed: int
    rejected: int
    queued: int


class Reporter:
    """Counts outcomes and reports problems to the log and ``on_error``; one writer thread."""

    def __init__(self, on_error: ErrorCallback | None) -> None:
        self.on_error = on_error
        self.sent = 0
        self.retried = 0
        self.failed = 0
        self.rejected = 0
        self.reported_dropped = 0

    def delivered(self, event_count: int, response: httpx.Response) -> None:
        body = _json_or_none(response)
        rejected = _int_field(body, "rejected")
        self.sent += event_count - rejected
        if rejected:
            self.rejected += rejected
            errors = body.get("errors") if isinstance(body, dict) else None
            self.error(
                DeliveryError(
                    f"server rejected {rejected} of {event_count} events",
                    event_count=rejected,
                    status_code=response.status_code,
                    details=errors,
                )
            )

    def gave_up(self, error: DeliveryError) -> None:
        self.failed += error.event_count
        self.error(error)

    def dropped(self, total_dropped: int) -> None:
        """Report queue overflow once per sender cycle, not once per event."""
        new = total_dropped - self.reported_dropped
        if new > 0:
            self.reported_dropped = total_dropped
            self.error(DeliveryError(f"queue full: dropped {new} oldest events", event_count=new))

    def error(self, error: DeliveryError) -> None:
        logger.warning("streamgauge delivery problem: %s", error.message)
        if self.on_error is not None:
            try:
                self.on_error(error)
            except Exception:
                logger.exception("streamgauge on_error callback raised")


def deliver(
    events: list[Event],
    *,
    policy: RetryPolicy,
    reporter: Reporter,
    encode: Callable[[list[Event]], bytes],
) -> Generator[Action, Reply, None]:
    """Deliver ``events``: retry transient failures, split on 413, count every outcome."""
    pending = [events]
    while pending:
        batch = pending.pop()
        body = encode(batch)
        attempt = 0
        while True:
            reply = yield Send(body, len(batch))
            retry_after: float | None = None
            if isinstance(reply, httpx.Response):
                outcome = classify(reply.status_code)
                if outcome is Outcome.DELIVERED:
                    reporter.delivered(len(batch), reply)
                    break
                if outcome is Outcome.SPLIT and len(batch) > 1:
                    half = len(batch) // 2
                    pending += [batch[half:], batch[:half]]
                    break
                if outcome is not Outcome.RETRY:
                    reporter.gave_up(_terminal_error(reply, len(batch)))
                    break
                retry_after = parse_retry_after(reply.headers.get("retry-after"))
                reason = f"HTTP {reply.status_code}"
            else:
                reason = f"{type(reply).__name__}: {reply}"
            if attempt >= policy.max_retries:
                reporter.gave_up(
                    DeliveryError(
                        f"gave up after {attempt + 1} attempts: {reason}",
                        event_count=len(batch),
                        status_code=reply.status_code
                        if isinstance(reply, httpx.Response)
                        else None,
                        retryable=True,
                    )
                )
                break
            give_up = yield Wait(policy.delay(attempt, retry_after))
            if give_up:
                remaining = len(batch) + sum(len(b) for b in pending)
                reporter.gave_up(
                    DeliveryError(
                        f"shutting down: {remaining} events undelivered ({reason})",
                        event_count=remaining,
                        retryable=True,
                    )
                )
                return
            attempt += 1
            reporter.retried += 1


def _terminal_error(response: httpx.Response, event_count: int) -> DeliveryError:
    body = _json_or_none(response)
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return DeliveryError(
        f"server refused {event_count} events: HTTP {response.status_code}"
        + (f": {message}" if message else ""),
        event_count=event_count,
        status_code=response.status_code,
        details=error,
    )


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _int_field(body: Any, name: str) -> int:
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, int) else 0
