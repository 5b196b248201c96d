"""``AsyncClient``: the same behaviour driven by an asyncio task."""

from __future__ import annotations

import asyncio
import gzip
import json

import httpx

from client_support import FakeIngest
from streamgauge_client import AsyncClient, DeliveryError


def async_client(ingest: FakeIngest, **options: object) -> AsyncClient:
    settings: dict[str, object] = {"flush_interval": 60.0, "backoff_base": 0.01}
    settings.update(options)
    return AsyncClient("http://ingest.test", "k", transport=ingest.transport, **settings)  # type: ignore[arg-type]


def test_track_flush_close_as_an_async_context_manager(ingest: FakeIngest) -> None:
    async def main() -> set[str]:
        async with async_client(ingest) as client:
            ids = {client.track("e", user_id="u") for _ in range(5)}
            ids.add(client.usage("sku", 3, unit="calls"))
            assert await client.flush(5)
            assert client.stats.sent == 6
        return ids

    ids = asyncio.run(main())
    assert {e["id"] for e in ingest.events} == ids
    assert ingest.requests[0].headers["authorization"] == "Bearer k"
    assert len(json.loads(gzip.decompress(ingest.requests[0].content))) == 6


def test_events_queued_from_worker_threads_are_delivered(ingest: FakeIngest) -> None:
    async def main() -> None:
        async with async_client(ingest, batch_size=10) as client:
            client.track("first")  # starts the sender task in this loop
            await asyncio.gather(*(asyncio.to_thread(client.track, "t") for _ in range(25)))
            assert await client.flush(5)
            assert client.stats.sent == 26

    asyncio.run(main())
    assert len(ingest.events) == 26


def test_retries_and_close_deadline(ingest: FakeIngest) -> None:
    ingest.script = [httpx.Response(503), httpx.Response(429, headers={"Retry-After": "0.1"})]

    async def main() -> None:
        async with async_client(ingest) as client:
            client.track("e")
            assert await client.flush(5)
            assert (client.stats.retried, client.stats.sent) == (2, 1)

    asyncio.run(main())
    assert ingest.times[2] - ingest.times[1] >= 0.1


def test_close_with_the_server_down_gives_up_at_the_deadline() -> None:
    async def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    errors: list[DeliveryError] = []

    async def main() -> AsyncClient:
        client = AsyncClient(
            "http://ingest.test", transport=httpx.MockTransport(down), on_error=errors.append
        )
        client.track("e")
        client.track("e")
        loop = asyncio.get_running_loop()
        started = loop.time()
        await client.close(timeout=0.3)
        assert loop.time() - started < 2.0
        return client

    client = asyncio.run(main())
    assert (client.stats.failed, client.stats.sent) == (2, 0)
    assert errors[-1].retryable
