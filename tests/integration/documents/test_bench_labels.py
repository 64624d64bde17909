"""`baodan bench labels`, run as a subprocess like a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.slow

BAODAN = Path(sys.executable).with_name("baodan")


def test_bench_labels_prints_one_json_object_and_keeps_the_pdf_when_asked(tmp_path):
    pdf = tmp_path / "labels.pdf"
    done = subprocess.run([str(BAODAN), "bench", "labels", "--count", "30", "--chunk", "20", "--size", "76x130",
                           "--output", str(pdf), "--json"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["count"] == 30 and found["chunks"] == 2 and found["size"] == "76x130"
    assert found["labels_per_s"] > 0 and found["peak_rss_mb"] > 0 and found["output_bytes"] == pdf.stat().st_size
    assert len(PdfReader(pdf).pages) == 30


def test_bench_labels_refuses_a_size_that_is_not_a_label(tmp_path):
    done = subprocess.run([str(BAODAN), "bench", "labels", "--size", "a4"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("error: cli.invalid_option: --size must be 100x150 or 76x130")
