"""Document errors with stable codes."""

from baodan.core.errors import BaoDanError, Invalid


class FontsMissing(BaoDanError):
    """No CJK font typst can use: the message names the command that installs one."""

    code = "documents.fonts_missing"
    status = 500


class RenderFailed(BaoDanError):
    """Typst refused a document: a template bug, never the data (data reaches typst as JSON, not markup)."""

    code = "documents.render_failed"
    status = 500


class InvalidDocument(Invalid):
    code = "documents.invalid"
