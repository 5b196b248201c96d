"""Django glue: add ``"streamgauge_client.django.StreamgaugeMiddleware"`` to ``MIDDLEWARE``.

Put it first, so the duration covers the other middleware. The route template is
``request.resolver_match.route`` with a leading ``/`` (``/items/<int:item_id>``); a request no
URL pattern matched is recorded as ``<unmatched>``. Django turns view exceptions into
responses inside the middleware chain; ``process_exception`` notes their type, recorded as
``error`` when the answer is a 5xx (``Http404``, ``PermissionDenied`` are answers, not errors).
Works under WSGI and ASGI (the middleware is sync- and async-capable).

Configured from ``settings.STREAMGAUGE`` (a dict; all keys optional)::

    STREAMGAUGE = {
        "URL": "http://127.0.0.1:8787",     # else $STREAMGAUGE_URL
        "WRITE_KEY": "sg_write_...",        # else $STREAMGAUGE_WRITE_KEY
        "SKIP_PATHS": ["/health", "/static/*"],
        "SAMPLE_RATE": 1.0,
        "USER_ID": "myapp.analytics.user_id",  # a callable or its dotted path: f(request)
        "ORGANIZATION_ID": None, "SESSION_ID": None, "PROPERTIES": None,
        "CLIENT": None,                     # a Client (or dotted path) to use instead
    }
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string

from streamgauge_client._base import BaseClient
from streamgauge_client._events import REQUEST_EVENT
from streamgauge_client._instrument import RequestRecorder, shared_client

GetResponse = Callable[[HttpRequest], Any]
_ERROR_ATTRIBUTE = "_streamgauge_error"


class StreamgaugeMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.recorder = recorder_from_settings(getattr(settings, "STREAMGAUGE", None) or {})
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        if not self.recorder.should_record(request.path_info):
            return self.get_response(request)
        started_ns = time.perf_counter_ns()
        try:
            response: HttpResponseBase = self.get_response(request)
        except Exception as error:
            self._record(request, 500, started_ns, type(error).__name__)
            raise
        self._record(request, response.status_code, started_ns, None)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        if not self.recorder.should_record(request.path_info):
            return await get_response(request)
        started_ns = time.perf_counter_ns()
        try:
            response = await get_response(request)
        except Exception as error:
            self._record(request, 500, started_ns, type(error).__name__)
            raise
        self._record(request, response.status_code, started_ns, None)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        # Kept only if the answer is a 5xx: Http404 or PermissionDenied are answers, not errors.
        setattr(request, _ERROR_ATTRIBUTE, type(exception).__name__)

    def _record(
        self, request: HttpRequest, status_code: int, started_ns: int, error: str | None
    ) -> None:
        self.recorder.record(
            request,
            method=request.method or "GET",
            route=route_template(request),
            status_code=status_code,
            started_ns=started_ns,
            error=error
            or (getattr(request, _ERROR_ATTRIBUTE, None) if status_code >= 500 else None),
        )


def route_template(request: HttpRequest) -> str | None:
    match = getattr(request, "resolver_match", None)
    route = getattr(match, "route", None)
    if not isinstance(route, str):
        return None
    return route if route.startswith("/") else "/" + route


def recorder_from_settings(options: dict[str, Any]) -> RequestRecorder[HttpRequest]:
    client = _resolve(options.get("CLIENT"))
    if client is None:
        client = shared_client(options.get("URL"), options.get("WRITE_KEY"))
    if not isinstance(client, BaseClient):
        raise TypeError(f"STREAMGAUGE['CLIENT'] must be a streamgauge_client.Client: {client!r}")
    return RequestRecorder(
        client,
        skip_paths=options.get("SKIP_PATHS", ()),
        sample_rate=float(options.get("SAMPLE_RATE", 1.0)),
        user_id=_resolve(options.get("USER_ID")),
        organization_id=_resolve(options.get("ORGANIZATION_ID")),
        session_id=_resolve(options.get("SESSION_ID")),
        properties=_resolve(options.get("PROPERTIES")),
        event=options.get("EVENT", REQUEST_EVENT),
    )


def _resolve(value: Any) -> Any:
    return import_string(value) if isinstance(value, str) else value
