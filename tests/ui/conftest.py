"""Browser tests of the /ui pages: real servers (`python -m watcher serve` and `gateway`
processes on loopback) and Debian's Chromium driven by Playwright. Playwright never downloads a
browser here; without /usr/bin/chromium these tests are skipped with one line."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_BROWSER = f"{CHROMIUM} not found: browser tests of /ui skipped (apt-get install chromium)"
ROOT = Path(__file__).resolve().parents[2]
# Screenshots of every page, kept after the run to be looked at.
SHOTS = Path(os.environ.get("WATCHER_UI_SHOTS", ROOT / "test-output" / "ui"))
DESKTOP = {"width": 1280, "height": 800}
READY = "main[data-ready=true]"

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(command: str, log_path: Path, **env: str) -> Iterator[str]:
    """`python -m watcher <command>` on a free loopback port; yields its base URL once ready."""
    port = free_port()
    prefix = "WATCHER_GATEWAY_" if command == "gateway" else "WATCHER_"
    environment = {**os.environ, f"{prefix}HOST": "127.0.0.1", f"{prefix}PORT": str(port), **env}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "watcher", command], env=environment, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"{command} exited during start-up: see {log_path}"
            assert time.monotonic() < deadline, f"{command} did not become ready"
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(base + "/readyz", timeout=2) as response,
            ):
                if response.status == 200:
                    break
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def api(base: str, path: str, token: str = "") -> dict:
    """The API's own answer, to hold the pages to."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def api_text(base: str, path: str) -> str:
    with urllib.request.urlopen(base + path, timeout=30) as response:
        return response.read().decode()


_left_out: list[str] = []


def pytest_collection_modifyitems(config, items) -> None:
    """Without Chromium the browser tests are left out, and said so once (below)."""
    if CHROMIUM.exists():
        return
    needs = [item for item in items if "browser" in getattr(item, "fixturenames", ())]
    if needs:
        config.hook.pytest_deselected(items=needs)
        items[:] = [item for item in items if item not in needs]
        _left_out.extend(item.nodeid for item in needs)


def pytest_terminal_summary(terminalreporter) -> None:
    if _left_out:
        terminalreporter.write_line(f"SKIPPED {len(_left_out)} tests: {NO_BROWSER}")


# Module scope: Playwright's sync API runs an event loop of its own while it is open, which
# must be closed before pytest-asyncio runs the next async test.
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(NO_BROWSER)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


class Watched:
    """A page whose every request, page error and CSP violation is recorded."""

    def __init__(self, page) -> None:
        self.page = page
        self.requests: list = []
        self.problems: list[str] = []
        page.on("request", lambda request: self.requests.append(request))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or message.type == "assert":
            self.problems.append(f"console: {message.text}")

    def origins(self) -> set[str]:
        found = set()
        for request in self.requests:
            parts = urlsplit(request.url)
            if parts.scheme in ("data", "blob"):
                continue
            found.add(f"{parts.scheme}://{parts.netloc}")
        return found

    def shot(self, name: str, full_page: bool = False) -> Path:
        return screenshot(self.page, name, full_page)


def screenshot(page, name: str, full_page: bool = False) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def watched(browser) -> Iterator[Watched]:
    """A fresh browser context at 1280x800. Afterwards: no request left the page's own origin,
    nothing broke the Content-Security-Policy, no script error."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page_log = Watched(page)
    yield page_log
    context.close()
    navigated = {
        f"{urlsplit(r.url).scheme}://{urlsplit(r.url).netloc}"
        for r in page_log.requests
        if r.is_navigation_request()
    }
    assert len(navigated) <= 1, navigated
    assert page_log.origins() <= navigated, page_log.origins() - navigated
    assert page_log.problems == []


def open_page(watched: Watched, url: str) -> None:
    watched.page.goto(url)
    watched.page.wait_for_selector(READY)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
