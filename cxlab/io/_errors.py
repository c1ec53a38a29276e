"""The error raised for an export file that cannot be read."""

from __future__ import annotations

from cxlab.errors import CxlabError

__all__ = ["ExportError"]


class ExportError(CxlabError):
    """An export file is missing, empty, corrupt, or not in the expected format.

    The message is one line that starts with the file's path and says why, for example
    ``data/raw/x.xlsx: not a readable Excel file (truncated or corrupt zip archive)``.
    It is a ``ValueError`` (through :class:`cxlab.errors.CxlabError`).
    """
