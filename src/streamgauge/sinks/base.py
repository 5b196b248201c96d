"""The Sink interface: a consumer of the log that keeps its own offset.

A sink's committed offset is stored *in the same transaction* as the events it
covers (a DuckDB transaction for the hot store, an Iceberg snapshot summary for
the archive), so replaying the log after a crash writes each event exactly once:
the runner resumes from ``committed_offset()``.

A sink may buffer (the archive commits in micro-batches): ``write`` hands it
events up to ``last_offset``; ``flush`` commits what it holds; ``committed_offset``
is what is durable. The runner reads the log from ``position()`` onwards.
"""

from __future__ import annotations

import abc

import pyarrow as pa

from streamgauge.types import Offset


class Sink(abc.ABC):
    """A durable consumer of the event log."""

    name: str

    @abc.abstractmethod
    def committed_offset(self) -> Offset:
        """The last log offset whose events are durably written (0: none)."""

    def position(self) -> Offset:
        """The last offset handed to ``write`` (buffered or committed)."""
        return self.committed_offset()

    @abc.abstractmethod
    def write(self, events: pa.Table, last_offset: Offset) -> None:
        """Take ``events`` (canonical Arrow schema), which end at log offset ``last_offset``.

        Offsets handed to a sink only grow. A sink that does not buffer commits
        the events and ``last_offset`` in one transaction before returning.
        """

    def flush(self) -> None:  # noqa: B027 - a default: most sinks do not buffer
        """Commit whatever is buffered. Sinks that do not buffer need nothing here."""

    def wants_flush(self) -> bool:
        """True when buffered events should be committed now (size or age reached)."""
        return False

    def close(self) -> None:  # noqa: B027 - a default: most sinks hold nothing
        """Release resources; buffered events not committed are replayed on next start."""
