import re

import pytest
from barcode import Code128

from baodan.documents import codes
from baodan.documents.errors import InvalidDocument


def test_code128_svg_draws_each_bar_of_python_barcodes_pattern():
    pattern = Code128("73100012345678").build()[0]
    code = codes.code128("73100012345678")
    assert code.modules == len(pattern)
    widths = [int(w) for w in re.findall(r"M\d+ 0h(\d+)", code.svg)]
    assert widths == [len(run) for run in re.findall(r"1+", pattern)]
    assert f'viewBox="0 0 {len(pattern)} 1"' in code.svg


def test_qr_svg_is_a_square_of_the_symbols_modules():
    code = codes.qr("73100012345678")
    assert code.modules == 21  # version 1: a waybill number fits
    assert 'viewBox="0 0 21 21"' in code.svg


def test_module_width_is_whole_print_dots_and_leaves_the_quiet_zones():
    width = codes.module_mm(156, 93.6)
    assert width == 0.5 and (156 + 20) * width <= 93.6
    assert codes.module_mm(156, 30) == 30 / 176  # too long for 0.25 mm: fit anyway


@pytest.mark.parametrize("text", ["", "顺丰123", "SF\n1"])
def test_code128_refuses_what_it_cannot_encode(text):
    with pytest.raises(InvalidDocument):
        codes.code128(text)
