"""The web console in a real browser: a `baodan serve` on demo data, driven by Playwright through Debian's
chromium (never a browser Playwright downloads). Skipped with a reason when /usr/bin/chromium or the built
console (frontend/dist, `make setup`) is missing, unless BAODAN_REQUIRE_BROWSER=1 (CI), which fails instead.
Each test saves screenshots of the screens it saw to test-artifacts/ui/."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("BAODAN_CHROMIUM", "/usr/bin/chromium"))
DIST = ROOT / "frontend" / "dist"
ARTIFACTS = ROOT / "test-artifacts" / "ui"
BAODAN = Path(sys.executable).with_name("baodan")
REQUIRE_BROWSER = os.environ.get("BAODAN_REQUIRE_BROWSER") == "1"
PASSWORD = "ui-tests-password-1"  # what the fixture users' one-time passwords are changed to
DEMO_ORDERS = 400

pytestmark = pytest.mark.slow


def _problem() -> str | None:
    if not CHROMIUM.exists():
        return f"no browser at {CHROMIUM} (Debian: apt-get install chromium)"
    if not (DIST / "index.html").is_file():
        return f"the web console is not built ({DIST}/index.html missing: run make setup)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session", autouse=True)
def _browser_available() -> None:
    problem = _problem()
    if problem:
        if REQUIRE_BROWSER:
            pytest.fail(f"BAODAN_REQUIRE_BROWSER=1 but {problem}")
        pytest.skip(problem)


@dataclass
class Server:
    url: str
    data_dir: Path
    admin_password: str  # the one-time password `init` printed; only the forced-change test uses it

    @contextmanager
    def api(self, username: str = "boss", password: str = PASSWORD) -> Iterator[httpx.Client]:
        """An API client signed in as `username`, sending the CSRF token on unsafe requests."""
        with httpx.Client(base_url=self.url, timeout=30) as client:
            resp = client.post("/api/v1/auth/login", json={"username": username, "password": password})
            assert resp.status_code == 200, resp.text
            client.headers["X-CSRF-Token"] = resp.json()["csrf_token"]
            yield client


def _cli(data_dir: Path, *args: str) -> str:
    done = subprocess.run([str(BAODAN), *args], cwd=data_dir.parent, env=_env(data_dir), capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, f"baodan {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAODAN_")}
    env.update(BAODAN_DATA_DIR=str(data_dir), BAODAN_CONSOLE_DIR=str(DIST), COLUMNS="250", NO_COLOR="1")
    return env


def _one_time_password(output: str) -> str:
    match = re.search(r"one-time password:? (\S+)", output)
    assert match, output
    return match.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`baodan init --demo` with DEMO_ORDERS orders, `baodan serve` on a free port, two more users (boss: an
    owner made with the CLI; kefu: 客服, the service role, made by boss through the API) whose one-time passwords
    are changed to PASSWORD, and a wait until the worker's review has held some orders."""
    data_dir = tmp_path_factory.mktemp("ui") / "data"
    admin_password = _one_time_password(_cli(data_dir, "init", "--demo", "--orders", str(DEMO_ORDERS)))
    first = {"boss": _one_time_password(_cli(data_dir, "users", "create", "boss", "--role", "owner"))}
    port = _free_port()
    log = (data_dir.parent / "serve.log").open("w")
    process = subprocess.Popen([str(BAODAN), "serve", "--port", str(port)], cwd=data_dir.parent, env=_env(data_dir),
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{url}/healthz", timeout=2).status_code == 200, 60, "the server to answer")
        srv = Server(url, data_dir, admin_password)
        _set_password(url, "boss", first["boss"])
        with srv.api() as api:
            resp = api.post("/api/v1/users", json={"username": "kefu", "role": "service"})
            assert resp.status_code == 201, resp.text
            _set_password(url, "kefu", resp.json()["one_time_password"])
            _wait(lambda: sum(api.get("/api/v1/fulfilment/summary").json()["held_reasons"].values()) >= 5, 90,
                  "the review to hold some orders")
        yield srv
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def _set_password(url: str, username: str, one_time: str) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        resp = client.post("/api/v1/auth/login", json={"username": username, "password": one_time})
        assert resp.status_code == 200, resp.text
        resp = client.post("/api/v1/auth/password", json={"current": one_time, "new": PASSWORD},
                           headers={"X-CSRF-Token": resp.json()["csrf_token"]})
        assert resp.status_code == 204, resp.text


def _wait(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # --no-sandbox: CI runs as root, where chromium's sandbox cannot start
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (no cookies) on a desktop screen, in a time zone far from Shanghai so the
    console must convert; a screenshot of where the test ended is kept on failure."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1440, "height": 900}, locale="zh-CN",
                                  timezone_id="America/New_York")
    context.set_default_timeout(15_000)
    errors: list[str] = []
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        shot(pg, f"FAILED-{request.node.name}")
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


def shot(page: Any, name: str) -> Path:
    """Save a screenshot of the page as test-artifacts/ui/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def login(page: Any, username: str = "boss", password: str = PASSWORD) -> None:
    """Sign in through the login screen and wait for the console's navigation."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-test=login-submit]")
    page.wait_for_selector("[data-test=nav], [data-test=nav-toggle]")
