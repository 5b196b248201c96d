"""Talking to a running server from the CLI, and reading its data directory when none runs.

The server holds the hot store's DuckDB file, so the CLI asks it over HTTP
first; with no server answering, the file can be opened read-only directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import httpx

from streamgauge.errors import StreamgaugeError
from streamgauge.paths import DataPaths

if TYPE_CHECKING:
    import duckdb

URL = click.option(
    "--url", default="http://127.0.0.1:8788", show_default=True, envvar="STREAMGAUGE_QUERY_URL",
    help="The server's query port; with nothing answering, --data-dir is read directly.",
)  # fmt: skip
KEY = click.option("--key", envvar="STREAMGAUGE_KEY", default=None, help="A read key.")


class ServerAbsent(Exception):
    """Nothing answered at the URL."""


def post(url: str, path: str, key: str | None, body: Any, **params: str) -> httpx.Response:
    """``POST url/path`` with the key; a streamgauge error answer keeps its message."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = httpx.post(
            f"{url.rstrip('/')}{path}", json=body, headers=headers, params=params, timeout=300.0
        )
    except httpx.ConnectError as error:
        raise ServerAbsent(str(error)) from None
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:300]
        raise StreamgaugeError(f"{url} answered {response.status_code}: {message}")
    return response


@contextmanager
def hot_store(data_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The hot store of a stopped server, read-only."""
    import duckdb

    path = DataPaths(data_dir).hot
    if not path.exists():
        raise StreamgaugeError(f"no server answered and there is no hot store at {path}")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as error:
        raise StreamgaugeError(f"cannot open {path} (is a server holding it?): {error}") from None
    try:
        yield con
    finally:
        con.close()
