"""Intake errors with stable codes."""

from baodan.core.errors import BaoDanError


class UnknownShop(BaoDanError):
    code = "intake.unknown_shop"
    status = 422


class ChannelMismatch(BaoDanError):
    code = "intake.channel_mismatch"
    status = 422


class BatchTooLarge(BaoDanError):
    code = "intake.batch_too_large"
    status = 413
