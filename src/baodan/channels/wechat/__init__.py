"""微信小店 (WeChat Channels shop) adapter."""

from baodan.channels.wechat.adapter import WechatAdapter

ADAPTER = WechatAdapter()

__all__ = ["ADAPTER", "WechatAdapter"]
