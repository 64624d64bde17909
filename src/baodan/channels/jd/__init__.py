"""京东 (JOS) adapter; see `adapter` for the readings chosen where the platform's documentation is unsure."""

from baodan.channels.jd.adapter import JdAdapter

ADAPTER = JdAdapter()

__all__ = ["ADAPTER", "JdAdapter"]
