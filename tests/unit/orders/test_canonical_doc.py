"""The documented canonical order example is valid and adds up."""

import json
import re
from pathlib import Path

from baodan.orders.model import LineAmounts, amount_anomalies
from baodan.orders.schemas import OrderBatch

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_documented_example_is_a_valid_batch_that_adds_up():
    block = re.search(r"```json\n(.*?)```", (DOCS / "canonical-order.md").read_text(), re.S).group(1)
    assert json.loads(block) == json.loads((DOCS / "examples" / "order-batch.json").read_text())
    batch = OrderBatch.model_validate_json(block)
    order = batch.orders[0]
    lines = [LineAmounts(ln.quantity, ln.unit_price_fen, ln.discount_fen, ln.amount_fen) for ln in order.lines]
    assert amount_anomalies(lines, shipping_fee_fen=order.shipping_fee_fen, discount_fen=order.discount_fen,
                            paid_total_fen=order.paid_total_fen, goods_total_fen=order.goods_total_fen) == []
