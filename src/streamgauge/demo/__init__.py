"""Demo data: realistic, seeded traffic for the demo command, tests and benchmarks."""

from .traffic import TrafficConfig, generate_events, generate_table

__all__ = ["TrafficConfig", "generate_events", "generate_table"]
