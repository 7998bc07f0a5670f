"""Errors in operator-written files (policies, configs, lexicons, the drug knowledge base):
they name where.

A file that cannot be used stops start-up with ``file:line: field: message``, so an
operator can fix it without reading code. It lives in ``classifiers`` because the clinical
knowledge files are read here, and ``classifiers`` never imports ``guard``;
``guard.errors`` re-exports it for the engine's own files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

__all__ = ["SourceError", "line_of", "parse_yaml"]


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


def parse_yaml(
    text: str, source: str, error: type[SourceError] = SourceError
) -> tuple[yaml.Node | None, Any]:
    """``(root node, data)``: the node tree keeps line numbers for ``line_of``. Invalid YAML
    raises ``error`` naming the line."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(source, f"invalid YAML: {problem}", line=line) from None


def line_of(node: yaml.Node | None, loc: Sequence[Any]) -> int | None:
    """The 1-based line of the YAML node at ``loc``, or of its deepest existing parent."""
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
