"""Errors in operator-written files (policies, configs, lexicons): they name where.

A file that cannot be used stops start-up with ``file:line: field: message``, so an
operator can fix it without reading code.
"""

from __future__ import annotations

__all__ = ["SourceError"]


class SourceError(ValueError):
    """A file that cannot be used. ``str()`` is ``source[:line]: [field: ]message``."""

    def __init__(
        self, source: str, message: str, line: int | None = None, field: str | None = None
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.message = message
        where = source if line is None else f"{source}:{line}"
        what = f"{field}: {message}" if field else message
        super().__init__(f"{where}: {what}")
