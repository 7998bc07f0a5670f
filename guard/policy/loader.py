"""Load a policy from YAML. A bad policy is an error that names the file, the line and the field.

Never returns an empty policy for a broken file: a guard that starts with no checks is
worse than one that does not start.

A policy can ``include`` other policy packs by name (a shipped pack such as
``ama-ethics``) or by path (relative to the including file)::

    include: [ama-ethics]

Each included pack is loaded and validated on its own first (so its errors name its own
file and line), then merged into the including policy: checks and rules are added (a
check name or rule id defined twice is an error, not a silent override), templates,
escalations, crisis lines and emergency numbers are added with the including policy's
own entries winning, so a tenant can reword a shipped template without copying the pack.
The result keeps the including policy's id and version and lists the packs it took in
``Policy.included`` (``"ama-ethics 1.0.0"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from guard.errors import SourceError, line_of, parse_yaml
from guard.policy.schema import Policy

__all__ = ["POLICY_DIR", "PolicyError", "load_policy", "parse_policy", "shipped_pack"]

POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"
"""The policy packs shipped with Primum (``policies/`` at the project root)."""


class PolicyError(SourceError):
    """A policy that cannot be used. ``str()`` is a message an operator can act on."""


_MAX_DEPTH = 8


def load_policy(path: str | Path) -> Policy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(str(path), f"cannot read policy file ({exc.strerror})") from None
    return parse_policy(text, source=str(path), base_dir=path.parent)


def shipped_pack(name: str) -> Path | None:
    """The file of the shipped pack called ``name`` (``ama-ethics``), if there is one."""
    if "/" in name or name.endswith((".yaml", ".yml")):
        return None
    path = POLICY_DIR / f"{name}.yaml"
    return path if path.is_file() else None


def _resolve_include(entry: str, base_dir: Path | None) -> Path:
    if base_dir is not None:
        for candidate in (base_dir / entry, base_dir / f"{entry}.yaml"):
            if candidate.is_file():
                return candidate
    shipped = shipped_pack(entry)
    if shipped is None:
        raise KeyError(entry)
    return shipped


def _merge(data: dict[str, Any], included: Policy, name: str) -> None:
    """Add ``included`` (already valid) into the raw mapping ``data`` in place."""
    extra = included.model_dump(mode="json", exclude_unset=True)
    for key in ("checks", "rules"):
        data[key] = list(data.get(key) or []) + list(extra.get(key) or [])
    for key in ("templates", "escalations", "criteria"):
        merged = dict(extra.get(key) or {})
        merged.update(data.get(key) or {})
        data[key] = merged
    resources = dict(data.get("resources") or {})
    theirs = extra.get("resources") or {}
    for key in ("crisis_lines", "emergency_numbers"):
        merged = dict(theirs.get(key) or {})
        merged.update(resources.get(key) or {})
        if merged:
            resources[key] = merged
    if "default_country" not in resources and "default_country" in theirs:
        resources["default_country"] = theirs["default_country"]
    if resources:
        data["resources"] = resources
    data["included"] = [*data.get("included", []), *included.included,
                        f"{name} {included.version}"]


def parse_policy(
    text: str, source: str = "<policy>", base_dir: Path | None = None, _depth: int = 0
) -> Policy:
    root, data = parse_yaml(text, source, PolicyError)
    if not isinstance(data, dict):
        raise PolicyError(source, "a policy must be a YAML mapping with id, version, checks, rules")
    if "included" in data:
        raise PolicyError(source, "is set by the loader; use 'include' to add packs",
                          line=line_of(root, ["included"]), field="included")
    includes = data.pop("include", None) or []
    if includes:
        if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
            raise PolicyError(source, "must be a list of pack names or paths",
                              line=line_of(root, ["include"]), field="include")
        if _depth >= _MAX_DEPTH:
            raise PolicyError(source, "includes nest too deeply (a cycle?)", field="include")
        data["included"] = []
        for n, entry in enumerate(includes):
            try:
                path = _resolve_include(entry, base_dir)
            except KeyError:
                raise PolicyError(source, f"no such policy pack or file {entry!r}",
                                  line=line_of(root, ["include", n]),
                                  field=f"include.{n}") from None
            try:
                included_text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise PolicyError(str(path), f"cannot read policy file ({exc.strerror})") from None
            included = parse_policy(included_text, str(path), path.parent, _depth + 1)
            _merge(data, included, Path(entry).stem)
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
