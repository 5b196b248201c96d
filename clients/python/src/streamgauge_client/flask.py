"""Flask glue: ``Streamgauge(app)`` or ``Streamgauge().init_app(app)``.

Wraps ``app.wsgi_app`` with the WSGI middleware (timing, status) and, in a teardown function
that runs while the request context is still alive, records the route template
(``request.url_rule.rule``, e.g. ``/items/<int:item_id>``), the unhandled exception's type and
the hooks' ids. Hooks receive ``flask.request``; ``flask.g`` is still available to them.

Settings from ``app.config``: ``STREAMGAUGE_URL``, ``STREAMGAUGE_WRITE_KEY``,
``STREAMGAUGE_SKIP_PATHS``, ``STREAMGAUGE_SAMPLE_RATE``; keyword arguments win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask, Request, request

from streamgauge_client._base import BaseClient
from streamgauge_client._events import REQUEST_EVENT
from streamgauge_client._instrument import call_hook, shared_client
from streamgauge_client.wsgi import ENVIRON_KEY, Environ, StreamgaugeMiddleware

FlaskIdHook = Callable[[Request], "str | None"]
FlaskPropertiesHook = Callable[[Request], "Mapping[str, Any] | None"]


class Streamgauge:
    """The Flask extension; ``app.extensions["streamgauge"]`` holds it once initialised."""

    def __init__(
        self,
        app: Flask | None = None,
        *,
        client: BaseClient | None = None,
        skip_paths: Iterable[str] | None = None,
        sample_rate: float | None = None,
        user_id: FlaskIdHook | None = None,
        organization_id: FlaskIdHook | None = None,
        session_id: FlaskIdHook | None = None,
        properties: FlaskPropertiesHook | None = None,
        event: str = REQUEST_EVENT,
    ) -> None:
        self.client = client
        self.skip_paths = skip_paths
        self.sample_rate = sample_rate
        self.hooks: dict[str, Callable[[Request], Any] | None] = {
            "user_id": user_id,
            "organization_id": organization_id,
            "session_id": session_id,
            "properties": properties,
        }
        self.event = event
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        config = app.config
        client = self.client or shared_client(
            config.get("STREAMGAUGE_URL"), config.get("STREAMGAUGE_WRITE_KEY")
        )
        app.wsgi_app = StreamgaugeMiddleware(  # type: ignore[method-assign]
            app.wsgi_app,
            client=client,
            skip_paths=self.skip_paths or config.get("STREAMGAUGE_SKIP_PATHS", ()),
            sample_rate=(
                self.sample_rate
                if self.sample_rate is not None
                else float(config.get("STREAMGAUGE_SAMPLE_RATE", 1.0))
            ),
            user_id=_known("user_id"),
            organization_id=_known("organization_id"),
            session_id=_known("session_id"),
            properties=_known("properties"),
            event=self.event,
        )
        app.teardown_request(self._capture)
        app.extensions["streamgauge"] = self

    def _capture(self, error: BaseException | None) -> None:
        known = request.environ.get(ENVIRON_KEY)
        if known is None:  # skipped or not sampled
            return
        rule = request.url_rule
        known["route"] = rule.rule if rule is not None else None
        if error is not None:
            known["error"] = type(error).__name__
        for name, hook in self.hooks.items():
            if hook is not None:
                known[name] = call_hook(hook, request)


def _known(name: str) -> Callable[[Environ], Any]:
    def lookup(environ: Environ) -> Any:
        return (environ.get(ENVIRON_KEY) or {}).get(name)

    return lookup
