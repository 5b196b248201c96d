"""Guarantee 5 on the query port: schemathesis sends generated and hostile bodies to every
documented endpoint of a real server; none may answer with a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = Path(tmp_path_factory.mktemp("fuzz")) / "data"
    with ServerProcess(data) as server:
        events = [
            {"event": "api.request", "userId": f"u{i % 5}", "organizationId": f"org_{i % 2}",
             "properties": {"method": "GET", "route": "/a"},
             "performance": {"duration": i, "statusCode": 200 + (i % 3) * 150},
             "usage": {"quantity": i, "unit": "tokens", "sku": "s"}}
            for i in range(50)
        ]  # fmt: skip
        httpx.post(f"{server.ingest_url}/events/batch", json=events).raise_for_status()
        yield server


@pytest.fixture(scope="module")
def query_api(fuzzed_server: ServerProcess) -> schemathesis.BaseSchema:
    document = httpx.get(f"{fuzzed_server.query_url}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    schema.config.update(base_url=fuzzed_server.query_url)
    # /live streams until the client goes away: not a request/response endpoint to fuzz.
    return schema.exclude(path="/live")


@pytest.mark.slow
def test_no_endpoint_answers_5xx(query_api: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in query_api.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12, deadline=None, database=None, derandomize=True,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        def no_5xx(case: schemathesis.Case) -> None:
            response = case.call(timeout=30)
            case.validate_response(response, checks=[not_a_server_error])

        no_5xx()
