"""What the browser tests share: Debian's chromium driven by Playwright (no browser download).

Without chromium a browser test skips, except under .ci/run, which installs it and sets
CI_REQUIRE_BROWSER=1 so that a missing browser fails instead. Screenshots go to test-artifacts/."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("BOT_TEST_ARTIFACTS") or ROOT / "test-artifacts")
# As the machine's notes advise: no sandbox as root, and no background traffic to a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
REQUIRED = os.environ.get("CI_REQUIRE_BROWSER") == "1"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
MISSING = f"no chromium at {CHROMIUM}: browser tests skipped"

# For a module with a few browser tests among others.
needs_browser = pytest.mark.skipif(not HAVE_CHROMIUM and not REQUIRED, reason=MISSING)


def require_chromium():
    """At the top of a module of browser tests: playwright's sync_api, or the whole module skips."""
    if not HAVE_CHROMIUM:
        if REQUIRED:
            raise RuntimeError(f"browser tests need chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(MISSING, allow_module_level=True)
    return pytest.importorskip("playwright.sync_api")


@contextmanager
def launched_browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
