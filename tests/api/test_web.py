"""The web console served by the API process (baodan.web): pages fall back to index.html, assets are cached
for a year, and the backend's own paths keep their JSON answers. Uses a stand-in build, so it runs without
Node; tests/ui/ drive the real build in a browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from baodan.app import create_app
from baodan.web import ASSET_CACHE
from tests.helpers import API, error_body, sqlite_only

INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head></html>'


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-abc123.js").write_text("console.log('console')")
    (root / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    return root


@pytest.fixture
def web(runtime, dist: Path) -> TestClient:
    runtime.settings.console_dir = dist
    return TestClient(create_app(runtime))


@sqlite_only
@pytest.mark.parametrize("path", ["/", "/orders", "/orders/42", "/anomalies?reason=address_invalid", "/login"])
def test_console_pages_answer_index_html_with_a_strict_csp(web: TestClient, path: str) -> None:
    resp = web.get(path, follow_redirects=False)
    assert resp.status_code == 200 and resp.text == INDEX
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.headers["cache-control"] == "no-cache"
    csp = resp.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["x-frame-options"] == "DENY"


@sqlite_only
def test_hashed_assets_are_cached_for_a_year(web: TestClient) -> None:
    resp = web.get("/assets/index-abc123.js")
    assert resp.status_code == 200 and resp.headers["cache-control"] == ASSET_CACHE
    assert "javascript" in resp.headers["content-type"]
    assert resp.headers["x-content-type-options"] == "nosniff"
    missing = web.get("/assets/gone-000.js")
    error_body(missing, 404, "request.not_found")
    assert "cache-control" not in missing.headers


@sqlite_only
def test_a_top_level_build_file_is_served_as_itself(web: TestClient) -> None:
    resp = web.get("/favicon.ico")
    assert resp.status_code == 200 and resp.content == b"\x00\x00\x01\x00"


@sqlite_only
@pytest.mark.parametrize("path", [f"{API}/no-such-thing", "/api/nothing", "/webhooks/a/b/c/d", "/events/x",
                                  "/docs/x", "/assets"])
def test_backend_paths_keep_their_json_404(web: TestClient, path: str) -> None:
    resp = web.get(path)
    assert resp.status_code == 404 and resp.headers["content-type"] == "application/json", resp.text
    assert resp.json()["code"]


@sqlite_only
def test_other_methods_keep_404_and_405(web: TestClient) -> None:
    error_body(web.post("/orders"), 404, "request.not_found")
    assert web.post(f"{API}/auth/me").status_code == 405  # a GET route: still 405, not the console
    assert web.get("/healthz").json() == {"status": "ok"}
    assert web.get("/openapi.json").json()["info"]["title"].startswith("BaoDan")


@sqlite_only
def test_without_a_build_the_root_redirects_to_the_docs(runtime, tmp_path: Path, caplog) -> None:
    runtime.settings.console_dir = tmp_path / "nothing-built"
    with caplog.at_level("INFO", logger="baodan.web"):
        client = TestClient(create_app(runtime))
    resp = client.get("/", follow_redirects=False)
    assert resp.status_code == 307 and resp.headers["location"] == "/docs"
    error_body(client.get("/orders"), 404, "request.not_found")
    assert any("web console is not built" in r.getMessage() for r in caplog.records)
