"""``primum``: scan files of prompts or answers with a policy, and validate policy files.

    primum scan prompts.jsonl --text-field prompt --out verdicts.jsonl
    primum policy validate policies/*.yaml

The proxy adds ``serve`` and ``hash-key`` to the same parser (``proxy.cli``), so every
command shares one entry point; ``guard`` itself stays free of web-framework imports.
Each subcommand sets ``handler`` (``Handler``) as its default; ``main`` dispatches to it.

Scanning goes through ``guard.sdk.AsyncGuard``, i.e. the same ``Pipeline`` the proxy
uses: a scan tells you what the proxy would decide for the same text and policy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, get_args

from guard.build import build_engine
from guard.checks import CheckRegistry
from guard.messages import MessageError
from guard.policy import PolicyError
from guard.sdk import AsyncGuard
from guard.types import Audience, Verdict

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "Handler", "build_parser", "main", "subcommands"]

EXIT_OK = 0
EXIT_ERROR = 1
"""A command ran and found problems (an invalid policy)."""
EXIT_USAGE = 2
"""Bad arguments, a missing input file or an unusable policy: nothing was done."""

Handler = Callable[[argparse.Namespace], int]
"""A subcommand: parsed arguments in, exit code out. ``args.registry`` is the check
registry to build policies with (``None``: the built-in checks; tests inject fakes)."""


def build_parser() -> argparse.ArgumentParser:
    """The ``primum`` parser with ``scan`` and ``policy validate``; extend it with
    ``subcommands(parser).add_parser(...)`` and ``set_defaults(handler=...)``."""
    parser = argparse.ArgumentParser(
        prog="primum",
        description="Primum: a safety guardrail for medical LLM traffic.",
    )
    parser.set_defaults(handler=None, registry=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = sub.add_parser(
        "scan",
        help="check every line of a JSONL file with a policy",
        description="Check each JSON line's text with a policy's input or output stage and "
        "write one JSON line per input line: id, action, categories and findings (check, "
        "category, score), never the text itself.",
    )
    scan.add_argument("file", type=Path, help="JSONL file, one object per line")
    scan.add_argument("--text-field", default="prompt",
                      help="field holding the text, or an OpenAI messages array "
                           "(default: prompt)")
    scan.add_argument("--id-field", default="id",
                      help="field holding the record id; the line number when absent "
                           "(default: id)")
    scan.add_argument("--stage", choices=["input", "output"], default="input",
                      help="check the text as a user prompt or as a model answer "
                           "(default: input)")
    scan.add_argument("--policy", default="default",
                      help="shipped pack name or policy file (default: default)")
    scan.add_argument("--audience", choices=list(get_args(Audience)), default="patient",
                      help="who reads the answers (default: patient)")
    scan.add_argument("--country", default="US", help="country for local resources "
                                                      "(default: US)")
    scan.add_argument("--out", type=Path, default=None,
                      help="write results here instead of standard output")
    scan.add_argument("--concurrency", type=_positive_int, default=4,
                      help="lines checked at once (default: 4)")
    scan.set_defaults(handler=_scan)

    policy = sub.add_parser("policy", help="work with policy files",
                            description="Work with policy files.")
    policy_sub = policy.add_subparsers(dest="policy_command", metavar="ACTION")
    validate = policy_sub.add_parser(
        "validate",
        help="load policies and build their checks; report the first error of each",
        description="Load each policy strictly and build its checks' parameters. Prints OK "
        "or 'file:line: field: message'; exits 1 if any policy is invalid.",
    )
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.set_defaults(handler=_validate)
    policy.set_defaults(handler=_usage(policy))
    return parser


def subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[Any]:
    """The ``COMMAND`` subparsers of a ``build_parser()`` parser, to add commands to."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise ValueError("parser has no subcommands; build it with guard.cli.build_parser()")


def main(
    argv: Sequence[str] | None = None,
    *,
    parser: argparse.ArgumentParser | None = None,
    registry: CheckRegistry | None = None,
) -> int:
    """Run one command and return its exit code; never raises for bad input.

    ``parser`` lets ``proxy.cli`` pass the extended parser; ``registry`` replaces the
    built-in checks (tests).
    """
    parser = parser or build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on bad arguments (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if registry is not None:
        args.registry = registry
    handler: Handler | None = args.handler
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _usage(parser: argparse.ArgumentParser) -> Handler:
    def usage(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    return usage


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


# ------------------------------------------------------------------------ policy validate
def _validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            engine = build_engine(path, args.registry)
        except PolicyError as exc:
            failed += 1
            print(str(exc), file=sys.stderr)
            continue
        policy = engine.policy
        print(f"{path}: OK ({policy.id} {policy.version}: {len(policy.checks)} checks, "
              f"{len(policy.rules)} rules)")
    return EXIT_ERROR if failed else EXIT_OK


# ----------------------------------------------------------------------------------- scan
@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    record_id: Any
    payload: str | list[Any] | None
    error: str | None = None


def _scan(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"primum scan: error: no such file: {path}", file=sys.stderr)
        return EXIT_USAGE
    try:
        guard = AsyncGuard.from_policy(
            args.policy, registry=args.registry, audience=args.audience,
            country=args.country, tenant="cli",
        )
    except PolicyError as exc:
        print(f"primum scan: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        out: IO[str] = (
            args.out.open("w", encoding="utf-8") if args.out is not None else sys.stdout
        )
    except OSError as exc:
        print(f"primum scan: error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    try:
        counts = asyncio.run(_scan_file(guard, args, out))
    finally:
        if out is not sys.stdout:
            out.close()
    total = sum(counts.values())
    summary = ", ".join(f"{name}={n}" for name, n in sorted(counts.items())) or "nothing"
    print(f"scanned {total} line{'s' * (total != 1)}: {summary}", file=sys.stderr)
    return EXIT_OK


async def _scan_file(guard: AsyncGuard, args: argparse.Namespace, out: IO[str]) -> Counter[str]:
    """Check lines ``concurrency`` at a time, writing results in input order."""
    from tqdm import tqdm

    path: Path = args.file
    with path.open(encoding="utf-8", errors="replace") as f:
        total = sum(1 for line in f if line.strip())
    await guard.load()
    counts: Counter[str] = Counter()
    pending: deque[asyncio.Task[dict[str, Any]]] = deque()
    with path.open(encoding="utf-8", errors="replace") as f, tqdm(
        total=total, file=sys.stderr, unit="line", desc="scan", dynamic_ncols=True
    ) as progress:

        def emit(result: dict[str, Any]) -> None:
            counts[result.get("action", "error")] += 1
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
            progress.update(1)

        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            line = _parse_line(number, raw, args.text_field, args.id_field)
            pending.append(asyncio.create_task(_check_line(guard, line, args.stage)))
            if len(pending) >= args.concurrency:
                emit(await pending.popleft())
        while pending:
            emit(await pending.popleft())
    out.flush()
    return counts


def _parse_line(number: int, raw: str, text_field: str, id_field: str) -> _Line:
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        return _Line(number, number, None, f"invalid JSON: {exc.msg} (column {exc.colno})")
    if not isinstance(record, dict):
        return _Line(number, number, None, "each line must be a JSON object")
    record_id = record.get(id_field, number)
    if not isinstance(record_id, str | int | float) or isinstance(record_id, bool):
        record_id = number
    payload = record.get(text_field)
    if payload is None:
        return _Line(number, record_id, None, f"missing field {text_field!r}")
    if not isinstance(payload, str | list):
        return _Line(number, record_id, None,
                     f"field {text_field!r} must be a string or a messages array")
    return _Line(number, record_id, payload)


async def _check_line(guard: AsyncGuard, line: _Line, stage: str) -> dict[str, Any]:
    base: dict[str, Any] = {"id": line.record_id, "line": line.number}
    if line.error is not None or line.payload is None:
        return {**base, "error": line.error}
    payload = line.payload
    try:
        if stage == "input":
            messages = (payload if isinstance(payload, list)
                        else [{"role": "user", "content": payload}])
            verdict = await guard.check(messages)
        else:
            if not isinstance(payload, str):
                return {**base, "error": "the output stage checks text, not a messages array"}
            verdict = (await guard.guard_output(payload)).verdict
    except MessageError as exc:
        return {**base, "error": exc.message}
    except Exception as exc:  # one bad record must not end a long batch
        # The type only: an exception's text may quote the record, and the record may be PHI.
        return {**base, "error": f"internal error: {type(exc).__name__}"}
    return {**base, **_summary(verdict)}


def _summary(verdict: Verdict) -> dict[str, Any]:
    """A verdict as a scan line: categories and scores, never text or spans of text."""
    return {
        "action": verdict.action.value,
        "categories": list(verdict.categories),
        "rules": list(verdict.rules),
        "findings": [
            {"check": f.check, "category": f.category, "score": round(f.score, 4)}
            for f in verdict.findings
        ],
        "failures": [{"check": f.check, "reason": f.reason} for f in verdict.failures],
    }


if __name__ == "__main__":
    sys.exit(main())
