"""Webhook destination: batches of events as one JSON POST each.

Body: ``{"destination": name, "events": [...]}`` (see ``base.event_json``).
2xx is delivered; 408, 429, 5xx and connection errors are retried with
backoff; any other 4xx refuses the batch for good, which is parked at once.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import msgspec

from streamgauge.log.base import Log
from streamgauge.model import Event
from streamgauge.pipeline.config import WebhookDestination
from streamgauge.sinks.destinations.base import DestinationSink, TerminalFailure, event_json

_RETRIED = frozenset({408, 425, 429})


class WebhookSink(DestinationSink):
    def __init__(self, config: WebhookDestination, log: Log, data_dir: Path) -> None:
        super().__init__(config, log, data_dir)
        self.webhook = config
        self.client = httpx.Client(timeout=config.timeout_s, headers=config.headers)

    def deliver(self, batch: list[Event]) -> None:
        body = msgspec.json.encode(
            {"destination": self.webhook.name, "events": [event_json(e) for e in batch]}
        )
        response = self.client.post(
            self.webhook.url, content=body, headers={"Content-Type": "application/json"}
        )
        status = response.status_code
        if 200 <= status < 300:
            return
        if 400 <= status < 500 and status not in _RETRIED:
            raise TerminalFailure(f"{self.webhook.url} answered {status}")
        raise httpx.HTTPStatusError(
            f"{self.webhook.url} answered {status}", request=response.request, response=response
        )

    def close(self) -> None:
        self.client.close()
