"""What every group of query-port routes needs: the caller, the body, a cursor, a reply.

Route modules (``query_routes``, ``billing_routes``, ``dashboard``) each
export ``register(app, api)`` taking this context, so the app module only
assembles them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import duckdb
import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from streamgauge.errors import BadRequest
from streamgauge.http.auth import authenticate, key_from_headers, require_query
from streamgauge.query import QueryResult, RelationFor, pick_format, render
from streamgauge.query.sandbox import deadline
from streamgauge.runtime import Runtime
from streamgauge.scope import Principal

T = TypeVar("T")
Compute = Callable[[duckdb.DuckDBPyConnection, Principal, dict[str, Any]], QueryResult]
"""A query endpoint's work: (cursor, caller, request body) → result."""


@dataclass(frozen=True, slots=True)
class ApiContext:
    runtime: Runtime

    def principal(self, request: Request) -> Principal:
        """The caller, who must hold a read (or admin) key."""
        return require_query(authenticate(self.runtime.keys, key_from_headers(request)))

    async def body(self, request: Request) -> dict[str, Any]:
        """The JSON object body (``{}`` when empty); a clear 400 otherwise."""
        data = await request.body()
        if not data.strip():
            return {}
        try:
            body = msgspec.json.decode(data)
        except msgspec.DecodeError as error:
            raise BadRequest(
                f"request body is not valid JSON: {error}", code="malformed_json"
            ) from None
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object")
        return body

    @property
    def relation_for(self) -> RelationFor:
        """Which tier relation holds a time range (the planner over hot and archive)."""
        return self.runtime.relation_for

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A hot-store cursor whose statements stop at the query time limit."""
        cursor = self.runtime.hot.cursor()
        try:
            with deadline(cursor, self.runtime.settings.query.timeout_s):
                yield cursor
        finally:
            cursor.close()

    async def fresh(self, work: Callable[[], T]) -> T:
        """Run ``work`` on a worker thread once the hot store holds every acknowledged event."""

        def call() -> T:
            self.runtime.wait_fresh()
            return work()

        return await run_in_threadpool(call)

    async def run(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work`` with a cursor on a fresh worker thread, never on the event loop."""

        def with_cursor() -> T:
            with self.cursor() as cursor:
                return work(cursor)

        return await self.fresh(with_cursor)

    async def answer(self, request: Request, compute: Compute) -> Response:
        """The common shape of a query endpoint: caller, body, computed result, rendered."""
        principal = self.principal(request)
        body = await self.body(request)
        result = await self.run(lambda cursor: compute(cursor, principal, body))
        return self.reply(request, result)

    def reply(self, request: Request, result: QueryResult) -> Response:
        """``result`` in the format asked for (``?format=`` or ``Accept``), JSON by default."""
        fmt = pick_format(request.query_params.get("format"), request.headers.get("accept"))
        body, media_type = render(result, fmt)
        return Response(body, media_type=media_type)
