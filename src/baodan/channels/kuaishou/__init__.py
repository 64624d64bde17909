"""快手电商 (Kuaishou shop) adapter."""

from baodan.channels.kuaishou.adapter import KuaishouAdapter

ADAPTER = KuaishouAdapter()

__all__ = ["ADAPTER", "KuaishouAdapter"]
