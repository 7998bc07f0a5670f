"""Load a policy from YAML. A bad policy is an error that names the file, the line and the field.

Never returns an empty policy for a broken file: a guard that starts with no checks is
worse than one that does not start.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from guard.errors import SourceError, line_of, parse_yaml
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
    root, data = parse_yaml(text, source, PolicyError)
    if not isinstance(data, dict):
        raise PolicyError(source, "a policy must be a YAML mapping with id, version, checks, rules")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc: Sequence[Any] = first["loc"]
        field = ".".join(str(p) for p in loc) or None
        line = line_of(root, loc)
        more = len(exc.errors()) - 1
        message = first["msg"] + (f" (and {more} more error{'s' * (more > 1)})" if more else "")
        raise PolicyError(source, message, line=line, field=field) from None
