"""Where archive files live: the SQL catalog, the warehouse file system (local or S3).

One place turns :class:`ArchiveSettings` into the three views of storage the
archive needs: pyiceberg's catalog and FileIO properties, a pyarrow file system
that can *list* the warehouse (orphan removal, status), and a DuckDB secret so
``iceberg_scan`` can read S3.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import pyarrow.fs as pafs
from pyiceberg.catalog.sql import SqlCatalog

from streamgauge.archive.settings import ArchiveSettings

CATALOG_NAME = "streamgauge"


def _require(settings: ArchiveSettings) -> tuple[str, str]:
    if settings.catalog_uri is None or settings.warehouse is None:
        raise ValueError("ArchiveSettings must be resolved(data_dir) before use")
    return settings.catalog_uri, settings.warehouse


def fileio_properties(settings: ArchiveSettings) -> dict[str, str]:
    """pyiceberg FileIO properties (S3 endpoint, region, credentials, path-style)."""
    if not settings.is_s3:
        return {}
    props = {"s3.region": settings.s3_region}
    if settings.s3_endpoint:
        props["s3.endpoint"] = settings.s3_endpoint
        # S3-compatible stores rarely serve virtual-hosted buckets on loopback.
        props["s3.force-virtual-addressing"] = "false"
    if settings.s3_access_key_id and settings.s3_secret_access_key:
        props["s3.access-key-id"] = settings.s3_access_key_id
        props["s3.secret-access-key"] = settings.s3_secret_access_key
    return props


def open_catalog(settings: ArchiveSettings) -> SqlCatalog:
    """The SQL catalog (SQLite or any SQLAlchemy URL) holding ``streamgauge.events``."""
    catalog_uri, warehouse = _require(settings)
    if catalog_uri.startswith("sqlite:///"):
        Path(catalog_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if warehouse.startswith("file://"):
        Path(urlparse(warehouse).path).mkdir(parents=True, exist_ok=True)
    if settings.is_s3:
        # Most non-AWS S3 servers reject the newer default request checksums.
        os.environ.setdefault("AWS_REQUEST_CHECKSUM_CALCULATION", "WHEN_REQUIRED")
        os.environ.setdefault("AWS_RESPONSE_CHECKSUM_VALIDATION", "WHEN_REQUIRED")
    return SqlCatalog(
        CATALOG_NAME,
        uri=catalog_uri,
        warehouse=warehouse,
        **fileio_properties(settings),
    )


def file_system(settings: ArchiveSettings) -> pafs.FileSystem:
    """A pyarrow file system over the warehouse, for listing and deleting files."""
    if not settings.is_s3:
        return pafs.LocalFileSystem()
    endpoint = urlparse(settings.s3_endpoint) if settings.s3_endpoint else None
    return pafs.S3FileSystem(
        access_key=settings.s3_access_key_id,
        secret_key=settings.s3_secret_access_key,
        region=settings.s3_region,
        endpoint_override=endpoint.netloc if endpoint else None,
        scheme=endpoint.scheme if endpoint else "https",
        force_virtual_addressing=False,
    )


def fs_path(location: str) -> str:
    """A table location (``file:///x``, ``/x``, ``s3://b/k``) as a pyarrow file-system path."""
    parsed = urlparse(location)
    if parsed.scheme in ("s3", "s3a"):
        return f"{parsed.netloc}{parsed.path}"
    if parsed.scheme == "file":
        return parsed.path
    return location


def local_path(location: str) -> str:
    """A location DuckDB can open: local paths without ``file://``, S3 URLs as they are."""
    parsed = urlparse(location)
    if parsed.scheme in ("s3a",):
        return "s3://" + parsed.netloc + parsed.path
    return parsed.path if parsed.scheme == "file" else location


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def configure_duckdb(con: duckdb.DuckDBPyConnection, settings: ArchiveSettings) -> None:
    """Load the Iceberg extension (from the PyPI packages) and, for S3, a scoped secret."""
    import duckdb_extensions

    names = ("avro", "iceberg", "httpfs") if settings.is_s3 else ("avro", "iceberg")
    for name in names:  # avro must be loaded before iceberg
        duckdb_extensions.import_extension(name, con=con)
        con.execute(f"LOAD {name}")
    if not settings.is_s3:
        return
    bucket = urlparse(settings.warehouse or "").netloc
    options = [
        "TYPE s3",
        f"SCOPE {_sql_literal('s3://' + bucket)}",
        f"REGION {_sql_literal(settings.s3_region)}",
        "URL_STYLE 'path'",
    ]
    if settings.s3_endpoint:
        endpoint = urlparse(settings.s3_endpoint)
        options.append(f"ENDPOINT {_sql_literal(endpoint.netloc)}")
        options.append(f"USE_SSL {'true' if endpoint.scheme == 'https' else 'false'}")
    if settings.s3_access_key_id and settings.s3_secret_access_key:
        options.append(f"KEY_ID {_sql_literal(settings.s3_access_key_id)}")
        options.append(f"SECRET {_sql_literal(settings.s3_secret_access_key)}")
    # DDL takes no bound parameters; every value above is a quoted literal.
    con.execute(f"CREATE OR REPLACE SECRET streamgauge_archive ({', '.join(options)})")
