"""The hand-rolled ingest service a team would write instead: FastAPI, pydantic
validation, psycopg inserting each batch into PostgreSQL and committing it.

Run by the benchmark as ``uvicorn bench.compare.pg_service:app``; the DSN and
the table come from ``BENCH_PG_DSN`` and ``BENCH_PG_TABLE``. One pool of
connections; each request validates its batch, inserts it with one
``executemany`` (pipelined by psycopg) and commits before answering 200, so
an acknowledged batch is durable (``synchronous_commit`` on).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from psycopg import sql
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, TypeAdapter

POOL_SIZE = 4
COLUMNS = (
    "project_id", "event_id", "event", "timestamp", "user_id", "session_id", "organization_id",
    "duration_ms", "status_code", "error", "usage_quantity", "usage_unit", "usage_sku",
    "method", "path", "properties",
)  # fmt: skip


class Performance(BaseModel):
    duration: float | None = None
    statusCode: int | None = None
    error: str | None = None


class Usage(BaseModel):
    quantity: float | None = None
    unit: str | None = None
    sku: str | None = None


class EventIn(BaseModel):
    id: str
    event: str
    timestamp: datetime | int | None = None
    userId: str | None = None
    organizationId: str | None = None
    sessionId: str | None = None
    properties: dict[str, Any] = {}
    performance: Performance = Performance()
    usage: Usage = Usage()

    def row(self) -> tuple[Any, ...]:
        when = self.timestamp
        if isinstance(when, int):
            when = datetime.fromtimestamp(when / 1000, UTC)
        props = self.properties
        return (
            "default", self.id, self.event, when or datetime.now(UTC), self.userId, self.sessionId,
            self.organizationId, self.performance.duration, self.performance.statusCode,
            self.performance.error, self.usage.quantity, self.usage.unit, self.usage.sku,
            props.get("method"), props.get("route") or props.get("path"), json.dumps(props),
        )  # fmt: skip


BATCH = TypeAdapter(list[EventIn])
pool = AsyncConnectionPool(
    os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test"),
    min_size=POOL_SIZE,
    max_size=POOL_SIZE,
    open=False,
)
INSERT = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
    sql.Identifier(*os.environ.get("BENCH_PG_TABLE", "public.events").split(".")),
    sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
    sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)),
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await pool.open(wait=True)
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> dict[str, int]:
    return {"connections": pool.get_stats().get("pool_size", 0)}


@app.post("/events/batch")
async def batch(request: Request) -> dict[str, int]:
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/x-ndjson"):
        events = [EventIn.model_validate_json(line) for line in body.splitlines() if line]
    else:
        events = BATCH.validate_json(body)
    async with pool.connection() as conn, conn.cursor() as cursor:
        await cursor.executemany(INSERT, [event.row() for event in events])
    return {"accepted": len(events)}
