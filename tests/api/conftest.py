"""Fixtures of the command-line tests: a demo database made once per module, and a copy per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.test_cli import ok


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir after `baodan init --demo --orders 200`; tests that write use a copy of it."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    out = ok(data_dir, "init", "--demo", "--orders", "200")
    assert "database ready" in out
    assert "200 orders" in out
    return data_dir


@pytest.fixture
def demo_copy(demo_dir: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "data"
    shutil.copytree(demo_dir, copy)
    yield copy
