"""Exceptions for problems a user can fix: shown as one line, never a traceback."""

from __future__ import annotations

__all__ = ["CxlabError", "ParamsError"]


class CxlabError(ValueError):
    """Base class of errors caused by user input (files, parameters, arguments).

    The command line prints ``str(error)`` on one line and exits non-zero; with ``--debug`` it
    shows the traceback instead.
    """


class ParamsError(CxlabError):
    """A file in ``params/`` is missing, malformed or inconsistent."""
