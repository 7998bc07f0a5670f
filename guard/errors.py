"""Errors in operator-written files: see ``classifiers.sourcefile`` (shared with the
classifiers' data files, which may not import ``guard``)."""

from classifiers.sourcefile import SourceError, line_of, parse_yaml

__all__ = ["SourceError", "line_of", "parse_yaml"]
