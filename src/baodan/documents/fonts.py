"""The CJK font the documents are set in, found without root and without a manual step.

Choice (docs/decisions.md §10): the PyPI package `noto-cjk-sans-otc` (SIL OFL 1.1; NotoSansCJK-Regular.ttc,
a 15.5 MB wheel), a dependency in pyproject.toml, so `make setup` installs it into .venv with the rest. It is
the whole Pan-CJK set (rare characters in names and addresses) with the face typst selects as "Noto Sans CJK
SC" and a monospaced one for codes. Typst reads OTF/TTF/TTC, not the WOFF/WOFF2 of npm's web-font packages.
The SC-only `pylopdf-fonts-zh-cn` (subset OTFs) and `manimgx-fonts-cjk` (32 MB variable collection) were
passed over; the `noto-cjk[sans-sc]` extra names wheels that are not on PyPI. Only the Regular weight ships:
the templates thicken bold words with a stroke.

Without the package, fonts installed on the system (Debian `fonts-noto-cjk`, Source Han Sans, WenQuanYi)
are used; with neither, `FontsMissing` names the command to run.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import typst

from baodan.documents.errors import FontsMissing

PACKAGE = "noto_cjk_sans_otc"  # the import name of the PyPI package noto-cjk-sans-otc
SYSTEM_FONTS = True  # fall back to the system's fonts when the package is missing
# In order of preference; the first is the packaged one.
FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans SC",
            "WenQuanYi Micro Hei", "WenQuanYi Zen Hei")
MONO_FAMILIES = ("Noto Sans Mono CJK SC", "DejaVu Sans Mono")


@dataclass(frozen=True)
class FontSet:
    fonts: typst.Fonts  # loaded once; fonts are read from disk when a document first uses them
    family: str
    mono: str
    source: str  # where the CJK font came from, for `bench labels` and error messages


@functools.cache
def cjk_fonts() -> FontSet:
    """The packaged CJK font, else a system one. Raises FontsMissing naming the set-up command."""
    packaged = _packaged_dir()
    if packaged is not None:
        found = _pick(typst.Fonts(include_system_fonts=False, include_embedded_fonts=True,
                                  font_paths=[str(packaged)]), f"PyPI noto-cjk-sans-otc ({packaged})")
        if found:
            return found
    if SYSTEM_FONTS:
        found = _pick(typst.Fonts(include_system_fonts=True, include_embedded_fonts=True), "system fonts")
        if found:
            return found
    raise FontsMissing(
        "no CJK font for labels and pick lists: run `make setup` (it installs the font package "
        "noto-cjk-sans-otc into .venv), or `.venv/bin/pip install noto-cjk-sans-otc`",
        details={"looked_for": list(FAMILIES), "package": "noto-cjk-sans-otc"})


def _packaged_dir() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _pick(fonts: typst.Fonts, source: str) -> FontSet | None:
    families = set(fonts.families())
    family = next((f for f in FAMILIES if f in families), None)
    if family is None:
        return None
    mono = next((f for f in MONO_FAMILIES if f in families), family)
    return FontSet(fonts=fonts, family=family, mono=mono, source=source)
