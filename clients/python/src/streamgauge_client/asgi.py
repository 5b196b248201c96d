"""ASGI middleware (Starlette, FastAPI, any ASGI app): one ``api.request`` event per request.

The route template comes from the router: Starlette and FastAPI leave the matched route in
``scope["route"]`` after routing, and its ``path`` is the template (``/items/{item_id}``). A
request no route matched is recorded as ``<unmatched>``. Other frameworks pass ``route=``, a
function of the scope (called after the app, so it can read what the router left there).

Hooks (``user_id``, ``organization_id``, ``session_id``, ``properties``) receive the scope,
after the app ran: ``scope["user"]`` and ``scope["state"]`` hold what auth middleware set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from streamgauge_client._base import BaseClient
from streamgauge_client._events import REQUEST_EVENT
from streamgauge_client._instrument import IdHook, PropertiesHook, RequestRecorder

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]


class StreamgaugeMiddleware:
    """``app.add_middleware(StreamgaugeMiddleware, client=client)``, or wrap: ``(app, ...)``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        client: BaseClient | None = None,
        skip_paths: Iterable[str] = (),
        sample_rate: float = 1.0,
        user_id: IdHook[Scope] | None = None,
        organization_id: IdHook[Scope] | None = None,
        session_id: IdHook[Scope] | None = None,
        properties: PropertiesHook[Scope] | None = None,
        route: Callable[[Scope], str | None] | None = None,
        event: str = REQUEST_EVENT,
    ) -> None:
        self.app = app
        self.recorder: RequestRecorder[Scope] = RequestRecorder(
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.recorder.should_record(scope["path"]):
            await self.app(scope, receive, send)
            return
        root_path = scope.get("root_path", "")
        status_code = 0

        async def send_and_watch(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        started_ns = time.perf_counter_ns()
        try:
            await self.app(scope, receive, send_and_watch)
        except Exception as error:
            self._record(scope, root_path, status_code or 500, started_ns, type(error).__name__)
            raise
        self._record(scope, root_path, status_code or 500, started_ns, None)

    def _record(
        self, scope: Scope, root_path: str, status_code: int, started_ns: int, error: str | None
    ) -> None:
        route = self.route(scope) if self.route is not None else router_template(scope, root_path)
        self.recorder.record(
            scope,
            method=scope["method"],
            route=route,
            status_code=status_code,
            started_ns=started_ns,
            error=error,
        )


def router_template(scope: Scope, root_path: str = "") -> str | None:
    """The template of the route Starlette/FastAPI matched, or ``None`` when none matched.

    Under a ``Mount`` the mount point is prefixed as it appeared in the URL: mount static
    prefixes (``/api``, ``/static``); FastAPI's ``include_router(prefix=...)`` is templated.
    """
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return None
    mounted: str = scope.get("root_path", "")
    if mounted == root_path or not mounted.startswith(root_path):
        return path
    prefix = mounted[len(root_path) :]
    if hasattr(route, "routes"):  # the route is the Mount itself (e.g. static files)
        return prefix or path
    return prefix + path
