"""Money is integer fen (分). Yuan appear only at the edges, as Decimal or text."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from baodan.core.errors import Invalid

MAX_YUAN = Decimal(10) ** 15  # far beyond any order; a fen amount stays within a signed 64-bit column


def yuan_to_fen(value: str | int | Decimal) -> int:
    """'12.30' → 1230. Refuses floats and more than two decimals rather than round silently."""
    if isinstance(value, float):  # pragma: no cover - a programming error, not user input
        raise TypeError("money must not be float")
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise Invalid(f"not an amount: {value!r}", code="money.invalid") from exc
    if not amount.is_finite():
        raise Invalid(f"not an amount: {value!r}", code="money.invalid")
    if abs(amount) > MAX_YUAN:
        raise Invalid(f"amount out of range: {value!r}", code="money.invalid")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise Invalid(f"more than two decimals: {value!r}", code="money.invalid")
    return int(fen)


def fen_to_yuan(fen: int) -> str:
    return str((Decimal(fen) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
