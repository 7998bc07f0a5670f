"""``primum``: scan files of prompts or answers with a policy, and validate policy files.

    primum scan prompts.jsonl --text-field prompt --out verdicts.jsonl
    primum policy validate policies/*.yaml
    primum policy test tests/golden/*.yaml [--policy NAME_OR_PATH]
    primum cases export --false-positives --out golden.yaml [--store URL | --config FILE]
    primum bench medsafetybench --data DIR      (source checkout only: benchmarks/)
    primum bench risky-intent [--data DIR]      (also medication, csedb)
    primum train harmful-request --data DIR     (needs the 'train' extra)
    primum train risky-intent --data DIR        (needs the 'train' extra; source tree)
    primum train critical-illness --data DIR

The proxy adds ``serve`` and ``hash-key`` to the same parser (``proxy.cli``), so every
command shares one entry point; ``guard`` itself stays free of web-framework imports.
Commands that read the deployment (``cases export``: its store URL, tenants and policies)
take ``--store URL`` here; ``proxy.cli`` sets ``load_deployment`` so that ``--config`` (or
``$PRIMUM_CONFIG``, or the embedded default) is read with the proxy's own config loader.
Each subcommand sets ``handler`` (``Handler``) as its default; ``main`` dispatches to it.

Scanning goes through ``guard.sdk.AsyncGuard``, i.e. the same ``Pipeline`` the proxy
uses: a scan tells you what the proxy would decide for the same text and policy.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast, get_args

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
    parser.set_defaults(handler=None, registry=None, load_deployment=None)
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
    test = policy_sub.add_parser(
        "test",
        help="run golden cases (exported false positives) through a policy",
        description="Run each case of the golden files (primum cases export) through its "
        "policy, or --policy, with the SDK's pipeline. Prints PASS, FAIL, PENDING (a known "
        "false positive still reproduced) or FIXED (a pending case that passes now) per "
        "case; exits 1 if any case fails, errors or is FIXED. See guard/golden.py.",
    )
    test.add_argument("files", nargs="+", type=Path, metavar="FILE",
                      help="golden YAML files, or directories of them")
    test.add_argument("--policy", default=None, metavar="NAME_OR_PATH",
                      help="run every case with this policy (a shipped pack name or a "
                           "file) instead of the one each case names")
    test.set_defaults(handler=_policy_test)
    policy.set_defaults(handler=_usage(policy))
    _add_cases(sub)
    _add_bench(sub)
    _add_train(sub)
    _add_kb(sub)
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


# ------------------------------------------------------------------------------- train
def _add_train(sub: argparse._SubParsersAction[Any]) -> None:
    """``primum train harmful-request``: needs the ``train`` extra (scikit-learn, onnx)."""
    train = sub.add_parser("train", help="train a classifier (needs the 'train' extra)",
                           description="Train a classifier, export it to ONNX, pin it by "
                           "sha256 in its model_spec.json.")
    train_sub = train.add_subparsers(dest="train_command", metavar="CLASSIFIER")
    harmful = train_sub.add_parser(
        "harmful-request",
        help="the AMA-ethics harmful-request classifier (classifiers/harmful_request)",
        description="Train on MedSafetyBench train, the team supplement and the training part "
        "of the benign sets; choose thresholds by cross-validation; export ONNX.",
    )
    from classifiers.harmful_request.train import add_arguments

    add_arguments(harmful)
    harmful.set_defaults(handler=_train_harmful_request)
    risky = train_sub.add_parser(
        "risky-intent",
        help="the learned backstop of the risky_intent check (classifiers/risky/learned)",
        description="Train on the risky-intent development sets, the benchmark suite's dev "
        "half and the training part of the benign sets (source tree only); choose the "
        "threshold by grouped cross-validation; export ONNX.",
    )
    from classifiers.risky.learned.train import add_arguments as add_risky_arguments

    add_risky_arguments(risky)
    risky.set_defaults(handler=_train_risky_intent)
    critical = train_sub.add_parser(
        "critical-illness",
        help="the learned backstop of the critical_illness check (classifiers/critical/learned)",
        description="Train on the red-flag development sets, the CSEDB-aligned suite's dev "
        "half and the training part of the benign sets (source tree only); choose the "
        "threshold by cross-validation grouped by development set; export ONNX.",
    )
    from classifiers.critical.learned.train import add_arguments as add_critical_arguments

    add_critical_arguments(critical)
    critical.set_defaults(handler=_train_critical_illness)
    train.set_defaults(handler=_usage(train))


def _trainer(module: str) -> Callable[..., int] | None:
    """``run`` of a training module, or None (with the message) without the training extra."""
    try:
        return cast("Callable[..., int]", importlib.import_module(module).run)
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        print(f"primum train: error: {exc}; install the training extra: "
              "pip install 'primum[train]'", file=sys.stderr)
        return None


def _train_harmful_request(args: argparse.Namespace) -> int:
    run = _trainer("classifiers.harmful_request.train")
    return EXIT_USAGE if run is None else run(args)


def _train_risky_intent(args: argparse.Namespace) -> int:
    run = _trainer("classifiers.risky.learned.train")
    if run is None:
        return EXIT_USAGE
    from guard.checks.risky_intent import rules_report

    return run(args, rules=rules_report)


def _train_critical_illness(args: argparse.Namespace) -> int:
    run = _trainer("classifiers.critical.learned.train")
    if run is None:
        return EXIT_USAGE
    from guard.checks.critical_illness import rules_report

    return run(args, rules=rules_report)


# ------------------------------------------------------------------------------- bench
def _add_bench(sub: argparse._SubParsersAction[Any]) -> None:
    """``primum bench medsafetybench``. The options live here so ``--help`` works anywhere;
    the benchmark itself (``benchmarks/``, in the source tree only) is imported on use."""
    bench = sub.add_parser("bench", help="run a benchmark (needs the source checkout)",
                           description="Run a benchmark from benchmarks/ in the source tree.")
    bench_sub = bench.add_subparsers(dest="bench_command", metavar="BENCHMARK")
    msb = bench_sub.add_parser(
        "medsafetybench",
        help="harmful requests stopped (MedSafetyBench test) vs benign questions stopped",
        description="Check MedSafetyBench's test split and the benign control sets with a "
        "policy's input stage; write a markdown report, JSON and a PNG plot. See "
        "benchmarks/README.md.",
    )
    msb.add_argument("--data", type=Path, default=None, metavar="DIR",
                     help="data directory holding medsafetybench/ and benign/ "
                          "(default: $PRIMUM_DATA_DIR)")
    msb.add_argument("--policy", default="ama-ethics",
                     help="shipped pack name or policy file (default: ama-ethics)")
    msb.add_argument("--check", default="harmful_request",
                     help="the check whose findings carry the principle and whose latency "
                          "is measured (default: harmful_request)")
    msb.add_argument("--out", type=Path, default=Path("benchmarks/results/medsafetybench.md"),
                     help="markdown report; .json and .png are written beside it "
                          "(default: benchmarks/results/medsafetybench.md)")
    msb.add_argument("--limit-benign", type=_positive_int, default=None, metavar="N",
                     help="at most N rows per benign set (a fixed sample by row id)")
    msb.add_argument("--generalisation", default=None, metavar="FILE",
                     help="extra harmful/benign set with styles, or 'none' (default: "
                          "benchmarks/data/harmful_generalisation.jsonl when present)")
    msb.add_argument("--concurrency", type=_positive_int, default=8,
                     help="items checked at once (default: 8)")
    msb.add_argument("--latency-samples", type=_positive_int, default=500, metavar="N",
                     help="items timed one at a time for the latency figures (default: 500)")
    msb.add_argument("--judge", metavar="MODEL",
                     help="litellm model that judges answers with the benchmark's prompt")
    msb.add_argument("--target", metavar="MODEL",
                     help="litellm model whose answers are judged, directly and via Primum")
    msb.add_argument("--judge-limit", type=_positive_int, default=50, metavar="N",
                     help="test items to judge, principles taken in turn (default: 50)")
    msb.add_argument("--judge-api-base", metavar="URL", help="API base for the judge model")
    msb.add_argument("--target-api-base", metavar="URL", help="API base for the target model")
    msb.set_defaults(handler=_bench_medsafetybench)
    med = bench_sub.add_parser(
        "medication",
        help="dangerous doses and combinations flagged vs safe look-alikes and real questions",
        description="Run the medication scenario suite (benchmarks/data) and the benign "
        "sets' medication questions through a policy; write a markdown report, JSON and a "
        "PNG plot. See benchmarks/README.md.",
    )
    med.add_argument("--data", type=Path, default=None, metavar="DIR",
                     help="data directory holding benign/ (default: $PRIMUM_DATA_DIR)")
    med.add_argument("--policy", default="medication-safety",
                     help="shipped pack name or policy file (default: medication-safety)")
    med.add_argument("--check", default="medication",
                     help="name of the medication check in the policy (default: medication)")
    med.add_argument("--suite-dir", type=Path, default=Path("benchmarks/data"), metavar="DIR",
                     help="directory of medication_cases_*.jsonl (default: benchmarks/data)")
    med.add_argument("--out", type=Path, default=Path("benchmarks/results/medication.md"),
                     help="markdown report; .json and .png beside it "
                          "(default: benchmarks/results/medication.md)")
    med.add_argument("--limit-benign", type=_positive_int, default=None, metavar="N",
                     help="at most N medication questions per benign set")
    med.set_defaults(handler=_bench_medication)
    csedb = bench_sub.add_parser(
        "csedb",
        help="CSEDB-aligned high-risk items caught vs benign look-alikes over-flagged",
        description="Run the CSEDB-aligned scenario suite (benchmarks/data/csedb_*.jsonl), or "
        "items in the official CSEDB format (--items), through a policy; write a markdown "
        "report, JSON and a PNG plot. See benchmarks/README.md.",
    )
    csedb.add_argument("--items", type=Path, default=None, metavar="FILE",
                       help="items in the official CSEDB format, JSON or JSONL "
                            "(default: the team suite)")
    csedb.add_argument("--policy", default="default",
                       help="shipped pack name or policy file (default: default)")
    csedb.add_argument("--audience", choices=("patient", "clinician"), default="patient",
                       help="audience for --items (default: patient)")
    csedb.add_argument("--suite-dir", type=Path, default=Path("benchmarks/data"),
                       metavar="DIR", help="directory of csedb_*.jsonl (default: benchmarks/data)")
    csedb.add_argument("--out", type=Path, default=None,
                       help="markdown report; .json and .png beside it (default: "
                            "benchmarks/results/csedb.md, csedb-official.md with --items)")
    csedb.set_defaults(handler=_bench_runner("csedb"))
    risky = bench_sub.add_parser(
        "risky-intent",
        help="risky patient plans (misuse, stopping or delaying treatment, self-treatment, "
        "false cures) met with a safety message vs look-alikes left alone",
        description="Run the risky-intent suite (benchmarks/data/risky_intent_*.jsonl) through "
        "a policy for a patient audience, and the first rows of the benign sets when a data "
        "directory is given; write a markdown report, JSON and a PNG plot. See "
        "benchmarks/README.md.",
    )
    risky.add_argument("--policy", default="default",
                       help="shipped pack name or policy file (default: default)")
    risky.add_argument("--suite-dir", type=Path, default=Path("benchmarks/data"),
                       metavar="DIR",
                       help="directory of risky_intent_*.jsonl (default: benchmarks/data)")
    risky.add_argument("--data", type=Path, default=None, metavar="DIR",
                       help="data directory holding benign/ (default: $PRIMUM_DATA_DIR; the "
                            "benign sets are skipped when neither is given)")
    risky.add_argument("--benign-limit", type=_positive_int, default=1500, metavar="N",
                       help="first N rows of each benign set (default: 1500)")
    risky.add_argument("--out", type=Path, default=Path("benchmarks/results/risky-intent.md"),
                       help="markdown report; .json and .png beside it "
                            "(default: benchmarks/results/risky-intent.md)")
    risky.set_defaults(handler=_bench_runner("risky_intent"))
    bench.set_defaults(handler=_usage(bench))


def _bench_runner(module: str) -> Handler:
    """A handler that imports ``benchmarks.<module>`` on use and calls its ``run(args)``."""

    def handler(args: argparse.Namespace) -> int:
        try:
            run = importlib.import_module(f"benchmarks.{module}").run
        except ImportError as exc:
            print(f"primum bench: error: the benchmarks package is not importable ({exc}). "
                  "Benchmarks ship with the source tree only: run this from a checkout's root "
                  "directory (or put it on PYTHONPATH).", file=sys.stderr)
            return EXIT_USAGE
        return int(run(args))

    return handler


_bench_medsafetybench = _bench_runner("medsafetybench")
_bench_medication = _bench_runner("medication")


# ----------------------------------------------------------------------------------- kb
def _add_kb(sub: argparse._SubParsersAction[Any]) -> None:
    kb = sub.add_parser("kb", help="inspect the drug knowledge base",
                        description="Validate and inspect the medication check's drug "
                        "knowledge base (classifiers/medication/data, or --dir).")
    kb.add_argument("--dir", type=Path, default=None, metavar="DIR",
                    help="knowledge-base directory (default: the shipped one)")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION")
    stats = kb_sub.add_parser("stats", help="validate and count entries")
    stats.set_defaults(handler=_kb_stats)
    show = kb_sub.add_parser("show", help="what the knowledge base knows about a drug name")
    show.add_argument("name", help="generic, brand, misspelling or Chinese name")
    show.set_defaults(handler=_kb_show)
    kb.set_defaults(handler=_usage(kb))


def _load_kb(args: argparse.Namespace) -> Any:
    """The knowledge base of ``--dir`` (or the shipped one); None after printing why not."""
    from classifiers.medication.kb import DATA_DIR, DrugKB, KBError

    try:
        return DrugKB.load(args.dir or DATA_DIR)
    except KBError as exc:
        print(str(exc), file=sys.stderr)
        return None


def _kb_stats(args: argparse.Namespace) -> int:
    kb = _load_kb(args)
    if kb is None:
        return EXIT_ERROR
    with_dose = sum(1 for d in kb.drugs.values() if d.doses)
    print(json.dumps({
        "version": kb.version, "drugs": len(kb.drugs), "drugs_with_dose_limits": with_dose,
        "classes": len(kb.classes), "interaction_entries": len(kb.interactions),
        "interaction_pairs": kb.pair_count(), "high_alert": len(kb.high_alert),
        "beers": len(kb.beers), "products": len(kb.products),
        "names": sum(len(list(d.all_names())) for d in kb.drugs.values()),
    }, indent=1))
    return EXIT_OK


def _kb_show(args: argparse.Namespace) -> int:
    from classifiers.medication.extract import DrugMatcher

    kb = _load_kb(args)
    if kb is None:
        return EXIT_ERROR
    ids = {m.drug for m in DrugMatcher(kb).find(args.name) if m.drug}
    if not ids:
        print(f"primum kb: no drug named {args.name!r}", file=sys.stderr)
        return EXIT_ERROR
    for drug_id in sorted(ids):
        print(json.dumps(kb.drugs[drug_id].model_dump(mode="json", by_alias=True,
                                                      exclude_none=True),
                         indent=1, ensure_ascii=False))
    return EXIT_OK


# ---------------------------------------------------------------------------- cases
def _add_cases(sub: argparse._SubParsersAction[Any]) -> None:
    cases = sub.add_parser("cases", help="work with review cases in the audit store",
                           description="Work with the review cases in the audit store.")
    cases_sub = cases.add_subparsers(dest="cases_command", metavar="ACTION")
    export = cases_sub.add_parser(
        "export",
        help="write resolved cases as golden policy tests",
        description="Write every case a reviewer resolved as false_positive as a golden "
        "case (guard/golden.py): the request rebuilt from its redacted excerpts, and the "
        "expectation that the policy now decides something less severe without the "
        "escalation. Run them with `primum policy test FILE`. Cases whose excerpt was "
        "withheld are skipped with a warning.",
    )
    export.add_argument("--false-positives", action="store_true",
                        help="export cases resolved as false_positive (required: the only "
                             "kind exported)")
    export.add_argument("--config", default=None, metavar="FILE",
                        help="proxy config: the store URL, tenants' audiences and policies "
                             "(default: $PRIMUM_CONFIG, else the embedded default)")
    export.add_argument("--store", default=None, metavar="URL",
                        help="audit store URL (default: the config's store.url); given "
                             "without --config, the config is not read: audiences default "
                             "to patient and policies are found among the shipped packs")
    export.add_argument("--tenant", action="append", default=None, metavar="NAME",
                        help="only this tenant's cases (repeat for several)")
    export.add_argument("--since", default=None, metavar="DATE",
                        help="only cases resolved at or after DATE (ISO 8601; UTC unless "
                             "an offset is given)")
    export.add_argument("--policy", default=None, metavar="ID",
                        help="only cases decided by the policy with this id "
                             "(e.g. primum-default)")
    export.add_argument("--pending", action="store_true",
                        help="mark the cases pending: known false positives not fixed yet "
                             "(runners report them without failing)")
    export.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="golden YAML file to write")
    export.set_defaults(handler=_cases_export)
    cases.set_defaults(handler=_usage(cases))


def _cases_export(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from guard.audit import AuditStore
    from guard.golden import DeploymentError, dump_golden, export_false_positives
    from guard.review import ReviewStore

    def fail(message: str) -> int:
        print(f"primum cases export: error: {message}", file=sys.stderr)
        return EXIT_USAGE

    if not args.false_positives:
        return fail("say which cases to export: --false-positives (the only kind so far)")
    since = None
    if args.since is not None:
        try:
            since = datetime.fromisoformat(args.since.replace("Z", "+00:00"))
        except ValueError:
            return fail(f"--since {args.since!r} is not an ISO 8601 date or time")
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    deployment = None
    if args.load_deployment is not None and (args.config is not None or args.store is None):
        try:
            deployment = args.load_deployment(args.config)
        except DeploymentError as exc:
            return fail(str(exc))
    elif args.config is not None:
        return fail("--config needs the proxy's config loader: run the `primum` command "
                    "installed with the proxy, or give --store URL")
    url = args.store or (deployment.store_url if deployment is not None else None)
    if url is None:
        return fail("give the audit store: --store URL (or --config FILE)")
    problem = _missing_sqlite(url)
    if problem:
        return fail(problem)
    try:
        store = AuditStore(url).open()
    except Exception as exc:  # a driver error's text can hold the URL and its password
        return fail(f"cannot open the audit store ({type(exc).__name__})")
    try:
        found, skipped = export_false_positives(
            ReviewStore(store), deployment=deployment, tenants=args.tenant, since=since,
            policy_id=args.policy, pending=args.pending, out_dir=args.out.parent)
    finally:
        store.close()
    for skip in skipped:
        print(f"warning: skipped case {skip.case_id}: {skip.reason}", file=sys.stderr)
    for case in found:
        if case.policy is None and case.origin is not None:
            print(f"warning: case {case.origin.case_id}: no policy file with id "
                  f"{case.origin.policy_id!r} found; run it with --policy", file=sys.stderr)
    header = (f"Golden cases (format: guard/golden.py): {len(found)} review "
              f"case{'s' * (len(found) != 1)} resolved as false_positive,\nexported by "
              f"`primum cases export --false-positives` on {datetime.now(UTC):%Y-%m-%d}.\n"
              f"Run them: primum policy test {args.out.name}")
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(dump_golden(found, header), encoding="utf-8")
    except OSError as exc:
        return fail(f"cannot write {args.out}: {exc.strerror}")
    print(f"wrote {len(found)} case{'s' * (len(found) != 1)} to {args.out}"
          f"{f' ({len(skipped)} skipped)' if skipped else ''}", file=sys.stderr)
    return EXIT_OK


def _missing_sqlite(url: str) -> str | None:
    """Exporting must not create an empty SQLite store where the operator mistyped a path."""
    import sqlalchemy as sa

    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        return "the store URL is not a SQLAlchemy URL"
    database = parsed.database
    if (parsed.get_backend_name() == "sqlite" and database not in (None, "", ":memory:")
            and not Path(str(database)).is_file()):
        return f"no audit store at {database}"
    return None


def _policy_test(args: argparse.Namespace) -> int:
    from guard.golden import GoldenError, GoldenRunner, iter_golden_files, load_golden

    cases = []
    for path in iter_golden_files(args.files):
        try:
            cases.extend(load_golden(path))
        except GoldenError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_USAGE
    if not cases:
        print("primum policy test: no golden cases in the files given", file=sys.stderr)
        return EXIT_USAGE
    runner = GoldenRunner(args.registry, args.policy)
    results = asyncio.run(runner.run(cases))
    for result in results:
        print(result.line())
    counts = Counter(r.status for r in results)
    summary = ", ".join(f"{counts[s]} {s}" for s in ("pass", "fail", "pending", "fixed", "error")
                        if counts[s])
    print(f"{len(results)} case{'s' * (len(results) != 1)}: {summary}", file=sys.stderr)
    return EXIT_OK if all(r.ok for r in results) else EXIT_ERROR


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
