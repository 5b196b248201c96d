"""ArchiveSettings: every knob of the archive tier, typed, defaulted, documented.

The lead folds this struct into the global config (``archive`` section); the
archive package only reads it. Paths that default to the data directory are
resolved by :func:`ArchiveSettings.resolved`, so one settings object can be
validated before the data directory exists.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from streamgauge.config import ArchiveConfig
from streamgauge.errors import ConfigError

MiB = 1024 * 1024
HOUR = 3600.0
DAY = 24 * HOUR


@dataclass(frozen=True, slots=True)
class ArchiveSettings:
    """Where the Iceberg table lives and how the archive writes and maintains it."""

    catalog_uri: str | None = None
    """SQLAlchemy URL of the Iceberg SQL catalog (``sqlite:///...``, ``postgresql://...``).
    Default: ``sqlite:///<data-dir>/archive/catalog.db``."""

    warehouse: str | None = None
    """Where table files are written: a local path, ``file://`` URL or ``s3://bucket/prefix``.
    Default: ``<data-dir>/archive/warehouse/``."""

    s3_endpoint: str | None = None
    """S3 endpoint URL for S3-compatible stores (``http://127.0.0.1:9000``); None: AWS."""

    s3_region: str = "us-east-1"
    """S3 region (most S3-compatible stores accept any)."""

    s3_access_key_id: str | None = None
    """S3 access key id; None: the environment's AWS credential chain."""

    s3_secret_access_key: str | None = None
    """S3 secret access key, paired with ``s3_access_key_id``."""

    commit_interval_s: float = 60.0
    """Commit buffered events at least this often (seconds), whatever their number."""

    commit_max_events: int = 500_000
    """Commit as soon as this many events are buffered (bounds memory and replay)."""

    target_file_size: int = 128 * MiB
    """Target size of a compacted Parquet file on disk (bytes)."""

    compact_min_files: int = 4
    """A day partition is compacted once it holds at least this many small files."""

    keep_snapshots: int = 10
    """Snapshot expiry always keeps at least this many most recent snapshots."""

    snapshot_max_age_s: float = 1 * DAY
    """Snapshot expiry removes snapshots older than this (beyond ``keep_snapshots``).
    Every snapshot is a few hundred bytes in each new metadata file: with a commit a
    minute, one day is ~1,440 snapshots."""

    orphan_min_age_s: float = 1 * DAY
    """Orphan removal only deletes unreferenced files older than this, so files of an
    in-flight write (written, not yet committed) are never touched."""

    archive_retention_s: float | None = None
    """Delete day partitions entirely older than this (seconds); None keeps everything."""

    @classmethod
    def from_config(cls, config: ArchiveConfig) -> ArchiveSettings:
        """The archive section of the global configuration (``archive.*``)."""
        return cls(
            catalog_uri=config.catalog or None,
            warehouse=config.warehouse or None,
            s3_endpoint=config.s3_endpoint or None,
            s3_region=config.s3_region,
            s3_access_key_id=config.s3_access_key_id or None,
            s3_secret_access_key=config.s3_secret_access_key or None,
            commit_interval_s=config.commit_interval_s,
            commit_max_events=config.commit_max_events,
            target_file_size=config.target_file_size,
            compact_min_files=config.compact_min_files,
            keep_snapshots=config.keep_snapshots,
            snapshot_max_age_s=config.snapshot_max_age_s,
            orphan_min_age_s=config.orphan_min_age_s,
            archive_retention_s=config.retention_s or None,
        )

    def validate(self) -> ArchiveSettings:
        """Return self, or raise ConfigError naming the first wrong key."""
        checks: list[tuple[str, bool]] = [
            ("archive.commit_interval_s", self.commit_interval_s > 0),
            ("archive.commit_max_events", self.commit_max_events > 0),
            ("archive.target_file_size", self.target_file_size >= MiB),
            ("archive.compact_min_files", self.compact_min_files >= 2),
            ("archive.keep_snapshots", self.keep_snapshots >= 1),
            ("archive.snapshot_max_age_s", self.snapshot_max_age_s >= 0),
            ("archive.orphan_min_age_s", self.orphan_min_age_s >= 0),
            (
                "archive.archive_retention_s",
                self.archive_retention_s is None or self.archive_retention_s >= DAY,
            ),
            (
                "archive.s3_secret_access_key",
                (self.s3_access_key_id is None) == (self.s3_secret_access_key is None),
            ),
        ]
        for key, ok in checks:
            if not ok:
                raise ConfigError(f"invalid value for {key}", details={"key": key})
        return self

    def resolved(self, data_dir: Path | str) -> ArchiveSettings:
        """A copy with catalog and warehouse defaults filled in under ``data_dir``."""
        root = Path(data_dir).absolute() / "archive"
        catalog_uri = self.catalog_uri or f"sqlite:///{root / 'catalog.db'}"
        warehouse = self.warehouse or (root / "warehouse").as_uri()
        if "://" not in warehouse:
            warehouse = Path(warehouse).absolute().as_uri()
        return dataclasses.replace(self, catalog_uri=catalog_uri, warehouse=warehouse).validate()

    @property
    def is_s3(self) -> bool:
        """True when the warehouse is on S3 (or an S3-compatible store)."""
        return (self.warehouse or "").startswith(("s3://", "s3a://"))
