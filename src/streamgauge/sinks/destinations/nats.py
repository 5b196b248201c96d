"""NATS destination: each event published to a subject, header ``Nats-Msg-Id`` = event id.

A batch counts as delivered once the server answered a flush after its
publishes; a JetStream stream capturing the subject dedups redeliveries by the
message id. The sink's thread runs its own event loop for nats-py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec

from streamgauge.log.base import Log
from streamgauge.model import Event
from streamgauge.pipeline.config import NatsDestination
from streamgauge.sinks.destinations.base import DestinationSink, event_json


class NatsSink(DestinationSink):
    def __init__(self, config: NatsDestination, log: Log, data_dir: Path) -> None:
        super().__init__(config, log, data_dir)
        self.nats = config
        self._loop = asyncio.new_event_loop()
        self._client: Any = None

    async def _connected(self) -> Any:
        import nats

        if self._client is None or not self._client.is_connected:
            if self._client is not None:
                await self._client.close()
            self._client = await nats.connect(
                self.nats.url, connect_timeout=self.nats.timeout_s, max_reconnect_attempts=0,
                allow_reconnect=False,
            )  # fmt: skip
        return self._client

    async def _publish(self, batch: list[Event]) -> None:
        client = await self._connected()
        encoder = msgspec.json.Encoder()
        for event in batch:
            await client.publish(
                self.nats.subject, encoder.encode(event_json(event)),
                headers={"Nats-Msg-Id": event.event_id},
            )  # fmt: skip
        await client.flush(timeout=self.nats.timeout_s)

    def deliver(self, batch: list[Event]) -> None:
        self._loop.run_until_complete(self._publish(batch))

    def close(self) -> None:
        if self._client is not None:
            self._loop.run_until_complete(self._client.close())
        self._loop.close()
