"""Test helpers: an in-process ingest server (an httpx transport), a list client, wait_for."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from streamgauge_client import BaseClient
from streamgauge_client._types import Event


class FakeIngest:
    """Answers ``POST /events/batch`` like the server: dedups on id, records every request.

    ``script`` holds responses to give first (e.g. three 503s); an ``Exception`` in it is raised
    as a network error instead. ``gate``, when set, makes requests wait until it opens.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[httpx.Request] = []
        self.received: list[Event] = []
        self.stored: dict[str, Event] = {}
        self.script: list[httpx.Response | Exception] = []
        self.gate: threading.Event | None = None
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.gate is not None:
            self.gate.wait(10)
        body = request.read()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        events = json.loads(body)
        with self.lock:
            self.requests.append(request)
            self.times.append(time.monotonic())
            if self.script:
                scripted = self.script.pop(0)
                if isinstance(scripted, Exception):
                    raise scripted
                return scripted
            self.received += events
            duplicates = 0
            for event in events:
                if event["id"] in self.stored:
                    duplicates += 1
                self.stored.setdefault(event["id"], event)
        return httpx.Response(
            200, json={"accepted": len(events) - duplicates, "duplicates": duplicates,
                       "rejected": 0, "errors": []},
        )  # fmt: skip

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    @property
    def events(self) -> list[Event]:
        with self.lock:
            return list(self.stored.values())


class ListClient(BaseClient):
    """A client that keeps events in a list: for middleware tests, no sender at all."""

    def __init__(self, **options: Any) -> None:
        super().__init__("http://test", **options)
        self.events: list[Event] = []

    def enqueue(self, event: Event) -> None:
        self.events.append(event)

    def _wake(self) -> None:
        pass

    def _ensure_sender(self) -> None:
        pass


def wait_for(condition: Callable[[], Any], *, timeout: float = 5.0) -> Any:
    """Poll ``condition`` until truthy; fail after ``timeout`` seconds (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.005)
    raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
