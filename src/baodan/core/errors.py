"""The one error type every layer raises; HTTP and CLI turn it into `{code, message, details}`."""

from __future__ import annotations

from typing import Any


class BaoDanError(Exception):
    """A failure a caller can act on. `code` is stable and machine-readable; `message` is for people."""

    code = "baodan.error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class NotFound(BaoDanError):
    code = "baodan.not_found"
    status = 404


class Conflict(BaoDanError):
    code = "baodan.conflict"
    status = 409


class Invalid(BaoDanError):
    code = "baodan.invalid"
    status = 422
