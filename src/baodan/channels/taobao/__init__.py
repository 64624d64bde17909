"""淘宝/天猫 (TOP) adapter; see `adapter` for the readings chosen where the platform's documentation is unsure."""

from baodan.channels.taobao.adapter import TaobaoAdapter

ADAPTER = TaobaoAdapter()

__all__ = ["ADAPTER", "TaobaoAdapter"]
