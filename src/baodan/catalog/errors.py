"""Catalog errors with stable codes."""

from baodan.core.errors import Conflict, Invalid, NotFound


class CatalogNotFound(NotFound):
    code = "catalog.not_found"


class DuplicateCode(Conflict):
    code = "catalog.duplicate_code"


class InvalidBundle(Invalid):
    code = "catalog.invalid_bundle"


class InvalidReference(Invalid):
    code = "catalog.invalid_reference"
