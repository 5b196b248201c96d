"""Wire formats that become canonical Events: one module per format.

``NORMALIZERS`` maps a source name (the ``source`` column) to the function
that turns one raw payload of it into an Event; dead-letter replay uses it.
"""

from __future__ import annotations

from collections.abc import Callable

from streamgauge.model import Event
from streamgauge.sources import cloudevents, otlp, posthog, segment
from streamgauge.sources.native import NormalizeOptions, normalize

NORMALIZERS: dict[str, Callable[[bytes, NormalizeOptions], Event]] = {
    "native": normalize,
    segment.SOURCE: segment.normalize,
    posthog.SOURCE: posthog.normalize,
    otlp.SOURCE: otlp.normalize,
    cloudevents.SOURCE: cloudevents.normalize,
}
