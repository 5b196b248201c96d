"""WSGI middleware (any WSGI app; Flask and Django have their own glue on top of or beside it).

Timing ends when the response body is exhausted or closed, so a streamed body is included. The
route template comes from ``route=``, a function of the environ called after the app; without
one, or when it returns ``None``, the route is ``<unmatched>``. Framework glue can instead fill
the dict at ``environ[ENVIRON_KEY]`` (``route``, ``error``, ids, ``properties``) while the
framework still has its request context, as the Flask extension does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

from streamgauge_client._base import BaseClient
from streamgauge_client._events import REQUEST_EVENT
from streamgauge_client._instrument import IdHook, PropertiesHook, RequestRecorder

Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | None
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

#: Where framework glue leaves what it knows about the request (a ``dict``).
ENVIRON_KEY = "streamgauge.request"


class StreamgaugeMiddleware:
    """``app.wsgi_app = StreamgaugeMiddleware(app.wsgi_app, client=client, route=...)``."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        client: BaseClient | None = None,
        skip_paths: Iterable[str] = (),
        sample_rate: float = 1.0,
        user_id: IdHook[Environ] | None = None,
        organization_id: IdHook[Environ] | None = None,
        session_id: IdHook[Environ] | None = None,
        properties: PropertiesHook[Environ] | None = None,
        route: Callable[[Environ], str | None] | None = None,
        event: str = REQUEST_EVENT,
    ) -> None:
        self.app = app
        self.recorder: RequestRecorder[Environ] = RequestRecorder(
            client,
            skip_paths=skip_paths,
            sample_rate=sample_rate,
            user_id=user_id,
            organization_id=organization_id,
            session_id=session_id,
            properties=properties,
            event=event,
        )
        self.route = route

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if not self.recorder.should_record(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        started_ns = time.perf_counter_ns()
        status = [500]

        def start_and_watch(status_line: str, headers: Any, exc_info: ExcInfo = None) -> Any:
            status[0] = int(status_line[:3])
            return start_response(status_line, headers, exc_info)

        environ[ENVIRON_KEY] = {}
        try:
            body = self.app(environ, start_and_watch)
        except Exception as error:
            self._record(environ, 500, started_ns, type(error).__name__)
            raise
        if isinstance(body, list | tuple):  # already complete: nothing left to time
            self._record(environ, status[0], started_ns, None)
            return body
        return _ClosingBody(body, lambda: self._record(environ, status[0], started_ns, None))

    def _record(
        self, environ: Environ, status_code: int, started_ns: int, error: str | None
    ) -> None:
        known: dict[str, Any] = environ.get(ENVIRON_KEY) or {}
        route = known.get("route")
        if route is None and self.route is not None:
            route = self.route(environ)
        self.recorder.record(
            environ,
            method=environ.get("REQUEST_METHOD", "GET"),
            route=route,
            status_code=status_code,
            started_ns=started_ns,
            error=error or known.get("error"),
        )


class _ClosingBody:
    """The app's body, recording the request once: when it is exhausted or closed (PEP 3333
    servers always close; test clients that leave the body unclosed still read it)."""

    __slots__ = ("_body", "_on_done")

    def __init__(self, body: Iterable[bytes], on_done: Callable[[], None]) -> None:
        self._body = body
        self._on_done: Callable[[], None] | None = on_done

    def __iter__(self) -> Iterator[bytes]:
        yield from self._body
        self._done()

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._done()

    def _done(self) -> None:
        on_done, self._on_done = self._on_done, None
        if on_done is not None:
            on_done()
