"""``make bench-compare``: streamgauge against what a team would otherwise run.

Contenders, all started by the benchmark on this machine: streamgauge over
HTTP (``sg_http``), DuckDB alone as the practical limit (``duckdb_direct``),
a hand-rolled FastAPI + pydantic + psycopg service and a well-indexed
PostgreSQL table (``pg_service``, ``postgres``), and ClickHouse's engine as
chdb (``clickhouse``). ``dataset`` builds the shared data, ``questions`` asks
the same six questions in each language, ``answers`` says whether they agree,
``workloads`` runs both workloads, ``report`` writes tables and plots.
"""
