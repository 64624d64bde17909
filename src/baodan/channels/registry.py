"""Every platform adapter by its canonical channel name, imported on first use (a process that never
talks to a platform never loads them)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from baodan.channels.base import Adapter

PLATFORMS = ("douyin", "kuaishou", "wechat", "taobao", "pdd", "jd")


class _Adapters(Mapping[str, Adapter]):
    def __init__(self) -> None:
        self._loaded: dict[str, Adapter] = {}

    def __getitem__(self, channel: str) -> Adapter:
        if channel not in PLATFORMS:
            raise KeyError(channel)
        if channel not in self._loaded:
            self._loaded[channel] = importlib.import_module(f"baodan.channels.{channel}").ADAPTER
        return self._loaded[channel]

    def __contains__(self, channel: object) -> bool:
        return channel in PLATFORMS

    def __iter__(self) -> Iterator[str]:
        return iter(PLATFORMS)

    def __len__(self) -> int:
        return len(PLATFORMS)


ADAPTERS: Mapping[str, Adapter] = _Adapters()
