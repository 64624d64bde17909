"""Chinese addresses: `parse_address()` over cnloc (GB/T 2260 data to 2024, Aho-Corasick over full and short
names), behind our own function so the library can be replaced.

Two uses, as the review needs them:
- **free text** (an imported spreadsheet's one address column): the province, city and district it names,
  with the district's adcode, and the rest as the detail; a text naming no district is incomplete;
- **a platform's structured address** (province, city, district as the platform sends them): *checked*, not
  re-guessed: each level must be a real division and the levels must belong together (杭州市 is not in 广东省).
  cnloc alone would read "浙江省广州市西湖区" as 浙江省杭州市西湖区, so the names it found are compared with the
  names given.

Quirks handled: 直辖市 have a synthetic city level (北京市/市辖区: a platform's "北京市" city is accepted);
省直辖县级行政区 (湖北省仙桃市: city "直辖县"); cities without districts (东莞, 中山, 儋州, 嘉峪关) have no
county level, so a town there is complete. Problems are reason codes the review rules hold on:
`address_missing`, `address_incomplete` (no district, or no detail), `address_invalid` (not a division, or
levels that do not belong together).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any

YEAR = 2024  # the newest year in cnloc's data
_NO_COUNTY_CITIES = frozenset({"441900", "442000", "460400", "620200"})  # 东莞, 中山, 儋州, 嘉峪关
_MUNICIPAL = frozenset({"市辖区", "县", "直辖县"})  # cnloc's synthetic city levels
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ParsedAddress:
    province: str | None
    city: str | None
    district: str | None
    adcode: str | None  # the most precise division found (district, else city, else province)
    detail: str
    problem: str | None  # None, address_missing, address_incomplete, address_invalid

    @property
    def ok(self) -> bool:
        return self.problem is None


@functools.cache
def _parser() -> Any:
    import cnloc  # imports pandas and loads ~45 years of divisions: only where addresses are checked

    with _LOCK:
        parser = cnloc.AddressParser()
        parser._build_automaton([YEAR])  # parse_single does not build the year's automaton itself
    return parser


def _lookup(text: str) -> dict[str, Any]:
    found = _parser().parse_single(text, YEAR, drop=["id"])
    return {k: v for k, v in found.items() if v}


def parse_address(text: str | None) -> ParsedAddress:
    """A free-text address: its divisions, adcode and the detail after them."""
    text = (text or "").strip()
    if not text:
        return ParsedAddress(None, None, None, None, "", "address_missing")
    found = _lookup(text)
    province, city, district = found.get("province_name"), found.get("city_name"), found.get("county_name")
    detail = _after(text, [n for n in (province, None if city in _MUNICIPAL else city, district) if n])
    adcode = found.get("county_adcode") or found.get("city_adcode") or found.get("province_adcode")
    problem = _problem(province is None or _skipped_a_level(text, found), found, district, detail)
    return ParsedAddress(province, None if city in _MUNICIPAL else city, district, adcode, detail, problem)


def check_address(province: str | None, city: str | None, district: str | None, detail: str | None) -> ParsedAddress:
    """A platform's structured address, checked level by level (never re-guessed)."""
    province, city, district = (v.strip() if v else None for v in (province, city, district))
    detail = (detail or "").strip()
    if not (province or city or district or detail):
        return ParsedAddress(None, None, None, None, "", "address_missing")
    if not province or not city:
        return ParsedAddress(province, city, district, None, detail, "address_incomplete")
    found = _lookup(f"{province}{city}{district or ''}")
    same_province = found.get("province_name") == province
    city_found = found.get("city_name")
    same_city = city_found == city or (city_found in _MUNICIPAL and city in (province, found.get("province_name")))
    if city_found in ("直辖县",) and found.get("county_name") == city:  # 湖北省 仙桃市 given as the city
        same_city, district_ok = True, district in (None, "", city) or district == found.get("county_name")
    else:
        district_ok = district is None or found.get("county_name") == district
    adcode = found.get("county_adcode") or found.get("city_adcode") or found.get("province_adcode")
    problem = _problem(not (same_province and same_city and district_ok), found, district, detail)
    return ParsedAddress(province, city, district, adcode, detail, problem)


def _problem(invalid: bool, found: dict[str, Any], district: str | None, detail: str) -> str | None:
    if invalid:
        return "address_invalid"
    countyless = found.get("city_adcode") in _NO_COUNTY_CITIES or found.get("city_name") == "直辖县"
    if (district is None and not countyless) or len(detail) < 2:
        return "address_incomplete"
    return None


def _skipped_a_level(text: str, found: dict[str, Any]) -> bool:
    """The text names something between the province and the district that is not the city found (cnloc
    reads "浙江省广州市西湖区" as 浙江省杭州市西湖区: a guess, refused here). Short names (浙江, 杭州) count."""
    province, district = found.get("province_name") or "", found.get("county_name")
    if not district or district not in text:
        return False
    start = 0
    while start < min(len(province), len(text)) and text[start] == province[start]:
        start += 1
    start = start if start >= 2 else 0  # the province, full or short, opens the text (or is left out)
    between = text[start:text.find(district)]
    city = found.get("city_name") or ""
    return bool(between) and city not in _MUNICIPAL and not (len(between) >= 2 and city.startswith(between))


def _after(text: str, names: list[str]) -> str:
    """The text after the last division name it contains."""
    end = 0
    for name in names:
        at = text.find(name, end)
        if at >= 0:
            end = at + len(name)
    return text[end:].strip(" ,，")
