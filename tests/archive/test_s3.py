"""The archive on a real S3-compatible server (OpenStack Swift + s3api, see swift.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from streamgauge.archive import Archive, ArchiveSettings, ArchiveSink
from streamgauge.archive.compaction import compact
from streamgauge.archive.maintenance import expire_snapshots, status
from streamgauge.archive.orphans import remove_orphans
from tests.archive import swift
from tests.archive.conftest import duckdb_event_ids, ids, make_events

pytestmark = pytest.mark.service


def test_an_s3_warehouse_round_trips_through_every_reader_and_maintenance(
    s3_endpoint: str, tmp_path: Path
) -> None:
    os.environ["AWS_REQUEST_CHECKSUM_CALCULATION"] = "WHEN_REQUIRED"
    fs = pafs.S3FileSystem(
        access_key=swift.ACCESS_KEY,
        secret_key=swift.SECRET_KEY,
        endpoint_override=s3_endpoint.removeprefix("http://"),
        scheme="http",
        force_virtual_addressing=False,
        allow_bucket_creation=True,
    )
    fs.create_dir("archive")
    settings = ArchiveSettings(
        warehouse="s3://archive/warehouse",
        s3_endpoint=s3_endpoint,
        s3_access_key_id=swift.ACCESS_KEY,
        s3_secret_access_key=swift.SECRET_KEY,
    )
    archive = Archive(settings, tmp_path)
    sink = ArchiveSink(archive)
    for first in (1, 11, 21):
        sink.write(make_events(first, 10), first + 9)
        sink.flush()
    assert archive.metadata_location.startswith("s3://archive/warehouse/")
    assert duckdb_event_ids(archive) == ids(1, 30)
    table = Archive(settings, tmp_path).refresh().scan().to_arrow()
    assert sorted(table["event_id"].to_pylist()) == ids(1, 30)

    compact(archive, min_files=2)
    expire_snapshots(archive, keep=1, max_age_s=0, now=time.time() + 1)
    removed = remove_orphans(archive, min_age_s=0, now=time.time() + 60)
    assert len([p for p in removed.deleted if p.endswith(".parquet")]) >= 3
    after = status(archive)
    assert (after.events, after.committed_offset) == (30, 30)
    assert duckdb_event_ids(archive) == ids(1, 30)
