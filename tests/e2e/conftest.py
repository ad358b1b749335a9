"""Real-browser tests: Playwright for Python driving Debian's chromium.

Playwright never downloads a browser here (CI has no network for that): it
launches /usr/bin/chromium, which ``.ci/run`` installs from Debian's packages.
"""

from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(apt-get install -y chromium), as .ci/run does."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()
            # While Playwright's event loop runs, Django keeps the database
            # connections of this thread in a separate context: close them here,
            # or they outlive the test and block dropping the test database.
            connections.close_all()


@pytest.fixture
def screenshots():
    """Save a full-page screenshot of a step as test-artifacts/e2e/NN-name.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    taken = []

    def shoot(page, name: str) -> Path:
        path = SCREENSHOTS / f"{len(taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    return shoot


@pytest.fixture
def server(django_db_setup, live_server):
    """The live server, started after the test database exists so that it stops
    (closing its connections) before the database is dropped."""
    return live_server
