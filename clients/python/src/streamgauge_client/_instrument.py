"""What every request middleware shares: which requests to record, and how.

The framework adapters (``asgi``, ``wsgi``, ``flask``, ``django``) time the request and find
the route template; ``RequestRecorder`` applies the options (skip paths, sampling, hooks) and
hands one ``api.request`` event to the client's queue. Nothing here waits on the network, and
nothing here raises into the application: a failing hook is logged and ignored.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from streamgauge_client._base import BaseClient
from streamgauge_client._client import Client
from streamgauge_client._events import REQUEST_EVENT

logger = logging.getLogger("streamgauge_client")

#: The route recorded when the framework matched no route (e.g. a 404): one fixed value, so
#: unmatched raw paths (scanners, typos, ids) never become dimensions.
UNMATCHED_ROUTE = "<unmatched>"

R = TypeVar("R")
#: Returns a user, organization or session id for a request, or ``None``.
IdHook = Callable[[R], "str | None"]
#: Returns extra properties for a request's event, or ``None``.
PropertiesHook = Callable[[R], "Mapping[str, Any] | None"]


class RequestRecorder(Generic[R]):
    """Options of a middleware; ``R`` is what hooks receive (ASGI scope, WSGI environ, ...)."""

    def __init__(
        self,
        client: BaseClient | None = None,
        *,
        skip_paths: Iterable[str] = (),
        sample_rate: float = 1.0,
        user_id: IdHook[R] | None = None,
        organization_id: IdHook[R] | None = None,
        session_id: IdHook[R] | None = None,
        properties: PropertiesHook[R] | None = None,
        event: str = REQUEST_EVENT,
    ) -> None:
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be between 0 and 1, not {sample_rate!r}")
        self.client = client if client is not None else shared_client()
        paths = list(skip_paths)
        self.skip_exact = frozenset(p for p in paths if not p.endswith("*"))
        self.skip_prefixes = tuple(p[:-1] for p in paths if p.endswith("*"))
        self.sample_rate = sample_rate
        self.user_id = user_id
        self.organization_id = organization_id
        self.session_id = session_id
        self.properties = properties
        self.event = event

    def should_record(self, path: str) -> bool:
        """Skip-listed paths (exact, or prefix when the entry ends in ``*``) and sampling."""
        if path in self.skip_exact or (self.skip_prefixes and path.startswith(self.skip_prefixes)):
            return False
        return self.sample_rate >= 1.0 or random.random() < self.sample_rate

    def record(
        self,
        request: R,
        *,
        method: str,
        route: str | None,
        status_code: int,
        started_ns: int,
        error: str | None = None,
    ) -> None:
        """Queue the request's event; ``started_ns`` is ``time.perf_counter_ns()`` at the start."""
        duration_ms = (time.perf_counter_ns() - started_ns) / 1_000_000
        try:
            self.client.request(
                method,
                route or UNMATCHED_ROUTE,
                status_code,
                duration_ms,
                error=error,
                user_id=call_hook(self.user_id, request),
                organization_id=call_hook(self.organization_id, request),
                session_id=call_hook(self.session_id, request),
                properties=call_hook(self.properties, request),
                event=self.event,
            )
        except Exception:
            logger.exception("streamgauge: recording a request failed")


def call_hook(hook: Callable[[R], Any] | None, request: R) -> Any:
    if hook is None:
        return None
    try:
        return hook(request)
    except Exception:
        logger.exception("streamgauge: hook %r failed", hook)
        return None


_shared_clients: dict[tuple[str | None, str | None], Client] = {}
_shared_lock = threading.Lock()


def shared_client(url: str | None = None, write_key: str | None = None) -> Client:
    """One ``Client`` per (url, key) in this process, so middlewares built many times (e.g. a
    Django handler per test client) share one sender thread. ``None`` reads the environment
    (``STREAMGAUGE_URL``, ``STREAMGAUGE_WRITE_KEY``)."""
    with _shared_lock:
        client = _shared_clients.get((url, write_key))
        if client is None or client._closed:
            client = _shared_clients[(url, write_key)] = Client(url, write_key)
        return client
