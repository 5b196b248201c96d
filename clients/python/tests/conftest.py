"""Fixtures; helpers live in ``client_support`` (unique: the repo has its own ``tests``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from client_support import FakeIngest, ListClient


@pytest.fixture
def ingest() -> FakeIngest:
    return FakeIngest()


@pytest.fixture
def list_client() -> Iterator[ListClient]:
    yield ListClient()
