"""Fixtures for the integration tests (helpers: ``server_support``), marked ``integration``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from server_support import ServerProcess


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.nodeid:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    process = ServerProcess(tmp_path_factory.mktemp("server") / "data")
    process.start()
    try:
        yield process
    finally:
        process.stop()
