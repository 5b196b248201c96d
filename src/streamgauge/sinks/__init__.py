"""Consumers of the event log: each keeps its own offset, committed with what it writes."""
