"""The event log: durable, ordered, replayable. Embedded: SQLite; distributed: JetStream."""

from streamgauge.log.base import AppendResult, DeadLetter, Log

__all__ = ["AppendResult", "DeadLetter", "Log"]
