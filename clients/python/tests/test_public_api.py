"""The public surface: ``__all__`` is honest, and importing the client pulls in no engine."""

from __future__ import annotations

import subprocess
import sys

import streamgauge_client


def test_all_names_exist_and_every_public_name_is_listed() -> None:
    for name in streamgauge_client.__all__:
        assert hasattr(streamgauge_client, name), name
    public = {
        name
        for name in vars(streamgauge_client)
        if not name.startswith("_") and name not in {"annotations"}
        and not isinstance(getattr(streamgauge_client, name), type(sys))
    }  # fmt: skip
    assert public == set(streamgauge_client.__all__)


def test_importing_the_client_and_middleware_loads_no_engine_or_framework() -> None:
    code = (
        "import sys, streamgauge_client, streamgauge_client.asgi, streamgauge_client.wsgi;"
        "heavy = {'duckdb', 'pyarrow', 'msgspec', 'streamgauge', 'starlette', 'fastapi',"
        " 'flask', 'django', 'pyiceberg'};"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
