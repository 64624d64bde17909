"""Barcodes as small SVGs for typst: Code128 encoded by python-barcode, QR encoded by segno; the SVG is
written here from their module patterns (python-barcode's own SVG writer builds a DOM and took ~1.3 ms a
code, four times what the rest of a label costs)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import segno
from barcode import Code128

from baodan.documents.errors import InvalidDocument

DOT_MM = 0.125  # one dot of a 203 dpi thermal head: bar widths in whole dots print true
MIN_MODULE_MM = 0.25
QUIET_MODULES = 10  # Code128 needs 10 module widths of white on each side


@dataclass(frozen=True, slots=True)
class Code:
    svg: str
    modules: int  # across (Code128: bars and spaces; QR: the side of the symbol)


def code128(text: str) -> Code:
    """A Code128 symbol (charsets switched as python-barcode chooses: digit runs in C, so a 15-digit
    waybill number stays short). The SVG is one unit high: the page stretches it to the bar height."""
    if not text or not (text.isascii() and text.isprintable()):
        raise InvalidDocument(f"a Code128 barcode holds printable ASCII only, not {text!r}")
    pattern = Code128(text).build()[0]
    bars: list[str] = []
    start = None
    for x, module in enumerate(pattern + "0"):
        if module == "1" and start is None:
            start = x
        elif module == "0" and start is not None:
            bars.append(f"M{start} 0h{x - start}v1h-{x - start}z")
            start = None
    return Code(svg=_svg(len(pattern), 1, "".join(bars)), modules=len(pattern))


def qr(text: str) -> Code:
    """A QR symbol, error correction M. The mask is fixed: choosing the best of eight cost ~1 ms a code,
    and any mask scans; a short payload (a waybill number) keeps the symbol at version 1–2."""
    matrix = segno.make_qr(text, error="m", mask=0).matrix
    runs: list[str] = []
    for y, row in enumerate(matrix):
        start = None
        for x, dark in enumerate((*row, 0)):
            if dark and start is None:
                start = x
            elif not dark and start is not None:
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
                start = None
    side = len(matrix)
    return Code(svg=_svg(side, side, "".join(runs)), modules=side)


def module_mm(modules: int, room_mm: float) -> float:
    """The widest bar module, in whole print dots, that fits `modules` plus both quiet zones in `room_mm`;
    never below 0.25 mm unless the code cannot fit otherwise."""
    total = modules + 2 * QUIET_MODULES
    width = math.floor(room_mm / total / DOT_MM) * DOT_MM
    return width if width >= MIN_MODULE_MM else room_mm / total


def _svg(width: int, height: int, path: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'preserveAspectRatio="none" shape-rendering="crispEdges"><path d="{path}"/></svg>')
