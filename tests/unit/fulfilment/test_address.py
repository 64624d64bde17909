"""parse_address() and check_address(): golden cases, including the quirks (直辖市, 省直辖县, cities
without districts, short names) and the guesses the library would make that must be refused."""

from __future__ import annotations

import pytest

from baodan.fulfilment.address import check_address, parse_address


@pytest.mark.parametrize(("text", "adcode", "detail", "problem"), [
    ("浙江省杭州市西湖区文三路90号3幢502室", "330106", "文三路90号3幢502室", None),
    ("浙江杭州西湖区文三路90号", "330106", "文三路90号", None),  # short names
    ("杭州市西湖区文三路5号", "330106", "文三路5号", None),  # the province left out
    ("北京市朝阳区建国路88号", "110105", "建国路88号", None),  # 直辖市
    ("上海浦东新区锦绣路1001弄5号", "310115", "锦绣路1001弄5号", None),
    ("湖北省仙桃市沔阳大道1号", "429004", "沔阳大道1号", None),  # 省直辖县级市
    ("广东省东莞市虎门镇连升路8号", "441900", "虎门镇连升路8号", None),  # no districts in 东莞
    ("内蒙古呼和浩特市新城区新华大街1号", "150102", "新华大街1号", None),
    ("新疆维吾尔自治区乌鲁木齐市天山区解放北路", "650102", "解放北路", None),
    ("浙江省广州市西湖区文三路", "330106", "文三路", "address_invalid"),  # cnloc would guess 杭州
    ("杭州市西湖区", "330106", "", "address_incomplete"),  # no street
    ("浙江省杭州市文三路", "330100", "文三路", "address_incomplete"),  # no district
    ("火星基地一号", None, "火星基地一号", "address_invalid"),
    ("", None, "", "address_missing"),
])
def test_free_text(text: str, adcode: str | None, detail: str, problem: str | None) -> None:
    parsed = parse_address(text)
    assert (parsed.adcode, parsed.detail, parsed.problem) == (adcode, detail, problem)


@pytest.mark.parametrize(("levels", "adcode", "problem"), [
    (("浙江省", "杭州市", "西湖区", "文三路90号"), "330106", None),
    (("北京市", "北京市", "朝阳区", "建国路88号"), "110105", None),  # platforms repeat the 直辖市 as the city
    (("湖北省", "仙桃市", None, "沔阳大道1号"), "429004", None),
    (("广东省", "东莞市", None, "虎门镇连升路8号"), "441900", None),
    (("浙江省", "广州市", "西湖区", "文三路"), None, "address_invalid"),  # checked, not re-guessed
    (("广东省", "广州市", "西湖区", "天河路1号"), None, "address_invalid"),  # 西湖区 is not in 广州
    (("浙江省", "杭州市", None, "文三路"), "330100", "address_incomplete"),
    (("浙江省", "杭州市", "西湖区", ""), "330106", "address_incomplete"),
    ((None, None, None, None), None, "address_missing"),
])
def test_a_platforms_structured_address_is_checked(levels: tuple[str | None, ...], adcode: str | None,
                                                   problem: str | None) -> None:
    checked = check_address(*levels)
    assert checked.problem == problem
    if adcode is not None:
        assert checked.adcode == adcode
