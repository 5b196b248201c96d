"""Orphan removal: delete warehouse files that no live snapshot can ever read.

A file is deleted only when both hold:

- no snapshot still in the metadata references it (as a live data file, a
  manifest or a manifest list), nor is it the current metadata file, one in the
  metadata log, or a statistics file; and
- it is older than ``orphan_min_age_s``, which protects the files of a write in
  flight (written, not committed yet) and readers still planning on a metadata
  file that was current a moment ago.

Each deletion is independent and only touches unreferenced files, so a crash
part-way leaves the table exactly as readable as before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyarrow.fs as pafs
from pyiceberg.table import Table

from streamgauge.archive.storage import file_system, fs_path
from streamgauge.archive.table import Archive


@dataclass(frozen=True, slots=True)
class OrphanResult:
    """Files deleted (or that would be, on a dry run) and their total size."""

    deleted: list[str] = field(default_factory=list)
    bytes: int = 0
    kept_too_young: int = 0


def referenced_files(table: Table) -> set[str]:
    """Every file any snapshot in the metadata, or the metadata itself, points to."""
    metadata = table.metadata
    paths = {table.metadata_location}
    paths.update(entry.metadata_file for entry in metadata.metadata_log)
    paths.update(s.statistics_path for s in metadata.statistics)
    paths.update(s.statistics_path for s in metadata.partition_statistics)
    for snapshot in metadata.snapshots:
        paths.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            paths.add(manifest.manifest_path)
            entries = manifest.fetch_manifest_entry(table.io, discard_deleted=True)
            paths.update(entry.data_file.file_path for entry in entries)
    return {fs_path(p) for p in paths}


def remove_orphans(
    archive: Archive,
    *,
    min_age_s: float | None = None,
    now: float | None = None,
    dry_run: bool = False,
) -> OrphanResult:
    """Delete unreferenced files older than ``min_age_s`` (default: the setting)."""
    min_age = archive.settings.orphan_min_age_s if min_age_s is None else min_age_s
    cutoff = (time.time() if now is None else now) - min_age
    table = archive.refresh()
    # List before reading references: a file committed in between is then
    # referenced, and one written in between is too young to be deleted.
    fs = file_system(archive.settings)
    listing = fs.get_file_info(pafs.FileSelector(fs_path(table.location()), recursive=True))
    referenced = referenced_files(archive.refresh())
    deleted: list[str] = []
    size = too_young = 0
    for info in listing:
        if info.type != pafs.FileType.File or info.path in referenced:
            continue
        if info.mtime is None or info.mtime.timestamp() > cutoff:
            too_young += 1
            continue
        if not dry_run:
            fs.delete_file(info.path)
        deleted.append(info.path)
        size += info.size or 0
    return OrphanResult(deleted=sorted(deleted), bytes=size, kept_too_young=too_young)
