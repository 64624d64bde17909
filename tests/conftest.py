"""Shared fixtures: a migrated database per test on SQLite and (when it answers) PostgreSQL.

PostgreSQL tests use BAODAN_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test), each in a
schema of its own that is dropped afterwards. Where no PostgreSQL answers they are skipped with a reason,
unless BAODAN_REQUIRE_PG=1 (CI), which turns that skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from baodan import migrate
from baodan.core.config import Settings
from baodan.core.db import Database

PG_URL = os.environ.get("BAODAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("BAODAN_REQUIRE_PG") == "1"


def _pg_problem() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure to connect means: no PostgreSQL here
        return f"no PostgreSQL at {PG_URL}: {str(exc).splitlines()[0]}"
    return None


_PG_PROBLEM = _pg_problem()


def require_pg() -> None:
    if _PG_PROBLEM:
        if REQUIRE_PG:
            pytest.fail(f"BAODAN_REQUIRE_PG=1 but {_PG_PROBLEM}")
        pytest.skip(_PG_PROBLEM)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    require_pg()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'baodan.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'baodan.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=db_url, batch_max_wait_ms=5)


@pytest.fixture
def runtime(db: Database, settings: Settings) -> Iterator[object]:
    from baodan.intake.inbox import open_inbox
    from baodan.intake.services import ShopDirectory
    from baodan.runtime import Runtime

    rt = Runtime(settings, db, open_inbox(db), ShopDirectory(db, ttl_s=0))
    yield rt
    rt.stop.set()
    rt.inbox.close()


OWNER_PASSWORD = "owner-password-for-tests"


@pytest.fixture
def anon_client(runtime: object) -> Iterator[object]:
    """The API with nobody logged in."""
    from fastapi.testclient import TestClient

    from baodan.app import create_app

    with TestClient(create_app(runtime)) as test_client:  # type: ignore[arg-type]
        yield test_client


@pytest.fixture
def client(anon_client: object, db: Database) -> object:
    """The API with an owner (every permission, every shop) logged in through /auth/login; the session
    cookie is kept and the CSRF token sent on every request."""
    from baodan.identity import accounts

    accounts.create_user(db, username="owner", role="owner", password=OWNER_PASSWORD)
    resp = anon_client.post("/api/v1/auth/login", json={"username": "owner", "password": OWNER_PASSWORD})
    assert resp.status_code == 200, resp.text
    anon_client.headers["X-CSRF-Token"] = resp.json()["csrf_token"]
    return anon_client
