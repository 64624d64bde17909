"""Every e-waybill adapter by name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from baodan.waybills import cainiao, douyin, kdniao, pdd
from baodan.waybills.base import WaybillAdapter

ADAPTERS: Mapping[str, WaybillAdapter] = MappingProxyType({"cainiao": cainiao.ADAPTER, "kdniao": kdniao.ADAPTER,
                                                           "pdd": pdd.ADAPTER, "douyin": douyin.ADAPTER})
