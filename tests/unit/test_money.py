"""Money from text: yuan strings to integer fen, refusing anything that is not a plain amount."""

from __future__ import annotations

import pytest

from baodan.core.errors import Invalid
from baodan.core.money import fen_to_yuan, yuan_to_fen


@pytest.mark.parametrize(("text", "fen"), [("12.30", 1230), ("1,299", 129900), (" 0.01 ", 1), ("-5", -500), (7, 700)])
def test_amounts_become_fen(text: str, fen: int) -> None:
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["12.345", "abc", "", "Infinity", "-inf", "NaN", "1e400", "1e16"])
def test_what_is_not_a_plain_amount_is_refused(text: str) -> None:
    with pytest.raises(Invalid) as caught:
        yuan_to_fen(text)
    assert caught.value.code == "money.invalid"


def test_fen_read_back_as_yuan() -> None:
    assert fen_to_yuan(1230) == "12.30" and fen_to_yuan(-1) == "-0.01"
