"""Distributed mode: roles of a process, archive sinks per log partition, cluster status.

The same program on many machines: ingest and query nodes are stateless, sink
nodes split the JetStream log by partition and commit to one Iceberg table
through a shared catalog. See docs/scaling-out.md.
"""
