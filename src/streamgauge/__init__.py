"""streamgauge: a self-hosted, real-time analytics pipeline.

Events come in over HTTP, are made durable in a log, land in a hot store
(DuckDB) within a second and in an archive (Apache Iceberg), and are answered
by one query planner over both tiers.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
