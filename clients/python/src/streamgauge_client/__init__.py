"""streamgauge-client: send events to streamgauge without slowing down or failing the app.

``Client`` (a background thread) and ``AsyncClient`` (an asyncio task) queue events and
deliver them in gzipped batches with retries; the middleware lives in
``streamgauge_client.asgi``, ``.wsgi``, ``.flask`` and ``.django``.
"""

from streamgauge_client._async_client import AsyncClient
from streamgauge_client._base import BaseClient
from streamgauge_client._client import Client
from streamgauge_client._delivery import ClientStats, RetryPolicy
from streamgauge_client._errors import DeliveryError
from streamgauge_client._events import REQUEST_EVENT, USAGE_EVENT
from streamgauge_client._instrument import UNMATCHED_ROUTE
from streamgauge_client._uuid7 import uuid7

__all__ = [
    "REQUEST_EVENT",
    "UNMATCHED_ROUTE",
    "USAGE_EVENT",
    "AsyncClient",
    "BaseClient",
    "Client",
    "ClientStats",
    "DeliveryError",
    "RetryPolicy",
    "uuid7",
]

__version__ = "0.1.0"
