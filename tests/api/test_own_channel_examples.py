"""The own-channel examples of docs/own-channel.md really work: the Python and the curl script push
signed orders to a running BaoDan, and a wrong secret is refused."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from baodan.app import create_app
from tests.api.test_webhooks import _inbox_total, _mini, _own_shop
from tests.helpers import serving, sqlite_only

pytestmark = sqlite_only
EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


@pytest.fixture
def server(runtime: Any) -> Iterator[str]:
    with serving(create_app(runtime)) as url:
        yield url


@pytest.mark.parametrize("command", [[sys.executable, str(EXAMPLES / "own_channel_push.py")],
                                     ["sh", str(EXAMPLES / "own_channel_push.sh")]], ids=["python", "curl"])
def test_the_documented_examples_push_signed_orders(runtime, db, client, server, tmp_path, command) -> None:
    _, secret = _own_shop(db, client)
    orders = tmp_path / "orders.json"
    orders.write_bytes(orjson.dumps({"orders": [_mini("e1"), _mini("e2")]}))
    done = subprocess.run([*command, server, "MINI", secret, str(orders)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '"accepted": 2' in done.stdout.replace("'", '"') or '"accepted":2' in done.stdout
    refused = subprocess.run([*command, server, "MINI", "wrong-secret", str(orders)], capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode != 0 and "webhook.bad_signature" in refused.stdout + refused.stderr
    assert _inbox_total(runtime) == 2
