"""Load a policy from YAML. A bad policy is an error that names the file, the line and the field.

Never returns an empty policy for a broken file: a guard that starts with no checks is
worse than one that does not start.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from guard.errors import SourceError
from guard.policy.schema import Policy

__all__ = ["PolicyError", "load_policy", "parse_policy"]


class PolicyError(SourceError):
    """A policy that cannot be used. ``str()`` is a message an operator can act on."""


def load_policy(path: str | Path) -> Policy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(str(path), f"cannot read policy file ({exc.strerror})") from None
    return parse_policy(text, source=str(path))


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(source, f"invalid YAML: {problem}", line=line) from None
    if not isinstance(data, dict):
        raise PolicyError(source, "a policy must be a YAML mapping with id, version, checks, rules")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc: Sequence[Any] = first["loc"]
        field = ".".join(str(p) for p in loc) or None
        line = _line_of(root, loc)
        more = len(exc.errors()) - 1
        message = first["msg"] + (f" (and {more} more error{'s' * (more > 1)})" if more else "")
        raise PolicyError(source, message, line=line, field=field) from None


def _line_of(node: yaml.Node | None, loc: Sequence[Any]) -> int | None:
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
