"""Errors of waybills, each with a stable code."""

from __future__ import annotations

from baodan.core.errors import Conflict, Invalid, NotFound


class AccountNotFound(NotFound):
    code = "waybills.account_not_found"


class WaybillNotFound(NotFound):
    code = "waybills.not_found"


class InvalidAccount(Invalid):
    code = "waybills.invalid_account"


class AccountExists(Conflict):
    code = "waybills.account_exists"


class NotCancellable(Conflict):
    """The number is cancelled already, or being cancelled."""

    code = "waybills.not_cancellable"
