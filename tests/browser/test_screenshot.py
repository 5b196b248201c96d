"""The dashboard on ``streamgauge demo`` data, photographed for the README (docs/dashboard.png).

Set ``STREAMGAUGE_UPDATE_SCREENSHOT=1`` to write docs/dashboard.png; otherwise the
picture goes to the test's temporary directory, so a test run leaves the tree clean.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from streamgauge.config import Settings
from streamgauge.demo.load import demo_plan, load_demo
from tests.browser.conftest import Watched, poll, wait_view
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_screenshot_of_the_dashboard_on_demo_data(
    tmp_path: Path, repo_root: Path, open_page: Callable[..., Watched]
) -> None:
    data = tmp_path / "data"
    # Two weeks, so the week shown is compared with a whole week before it.
    plan = demo_plan(events=120_000, days=14, seed=7, organizations=6)
    summary = load_demo(data, Settings(), plan)
    assert summary.events > 110_000
    update = os.environ.get("STREAMGAUGE_UPDATE_SCREENSHOT") == "1"
    target = repo_root / "docs" / "dashboard.png" if update else tmp_path / "dashboard.png"
    with ServerProcess(data) as server:
        watched = open_page(viewport={"width": 1440, "height": 900}, color_scheme="light")
        page = watched.page
        page.goto(f"{server.query_url}/?range=7d")
        wait_view(page, "range=7d", after=0, timeout=20)
        poll(
            lambda: page.get_attribute("[data-chart=volume]", "data-points") not in (None, "0"),
            timeout=5,
            what="the volume chart",
        )
        assert page.locator("[data-table=organizations] tbody tr").count() == 6
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target), full_page=True)
        assert watched.errors == []
    assert target.read_bytes().startswith(PNG_SIGNATURE)
