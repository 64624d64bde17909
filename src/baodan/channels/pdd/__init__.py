"""拼多多 adapter; see `adapter` for the readings chosen where the platform's documentation is unsure."""

from baodan.channels.pdd.adapter import PddAdapter

ADAPTER = PddAdapter()

__all__ = ["ADAPTER", "PddAdapter"]
