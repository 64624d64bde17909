"""抖店 (Douyin shop) adapter."""

from baodan.channels.douyin.adapter import DouyinAdapter

ADAPTER = DouyinAdapter()

__all__ = ["ADAPTER", "DouyinAdapter"]
