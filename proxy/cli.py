"""``primum``: the guard's commands (scan, policy, ...) plus ``serve`` and ``hash-key``.

The guard owns the parser (``guard.cli.build_parser``); the proxy adds its two commands
here, so ``guard`` never imports the web stack. ``serve`` validates the config before
starting anything, and for several workers prepares the Prometheus multiprocess
directory once, in the parent, before any worker imports prometheus_client.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from proxy.auth import hash_key
from proxy.config import CONFIG_ENV, ConfigError, load_config

if TYPE_CHECKING:
    from guard.golden import Deployment

__all__ = ["add_proxy_commands", "build_parser", "main"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def add_proxy_commands(parser: argparse.ArgumentParser) -> None:
    """Add ``serve`` and ``hash-key`` to a ``guard.cli.build_parser()`` parser."""
    from guard.cli import subcommands

    sub = subcommands(parser)
    serve = sub.add_parser(
        "serve", help="run the OpenAI-compatible guard proxy",
        description="Run the proxy. With neither --config nor $PRIMUM_CONFIG it serves the "
        "embedded default: 127.0.0.1:8080, key sk-primum-local, offline model primum-demo.",
    )
    serve.add_argument("--config", help=f"proxy config YAML (default: ${CONFIG_ENV})")
    serve.add_argument("--host", help="bind address (default: the config's server.host)")
    serve.add_argument("--port", type=int, help="port (default: the config's server.port)")
    serve.add_argument("--workers", type=int, help="worker processes (default: server.workers)")
    serve.set_defaults(handler=_serve)

    hashing = sub.add_parser(
        "hash-key", help="print the sha256 of an API key, for a tenant's key_sha256",
        description="Print the sha256 to put in a tenant's key_sha256. Pass '-' to read the "
        "key from stdin, which keeps it out of the shell history.",
    )
    hashing.add_argument("key", help="the API key, or '-' for stdin")
    hashing.set_defaults(handler=_hash_key)
    # `cases export --config FILE` reads the store URL and the tenants from the proxy config.
    parser.set_defaults(load_deployment=_load_deployment)


def _load_deployment(path: str | None) -> Deployment:
    # Imported here: guard.golden -> guard.review -> guard.metrics imports
    # prometheus_client, which `serve` must not import before it sets the multiprocess dir.
    from guard.golden import DeploymentError, deployment_from_config

    try:
        return deployment_from_config(load_config(path))
    except ConfigError as exc:
        raise DeploymentError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    from guard.cli import build_parser as guard_parser

    parser = guard_parser()
    add_proxy_commands(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``primum`` console script."""
    from guard.cli import main as guard_main

    return guard_main(argv, parser=build_parser())


def _hash_key(args: argparse.Namespace) -> int:
    key = sys.stdin.readline().strip() if args.key == "-" else args.key
    if not key:
        print("primum hash-key: the key is empty", file=sys.stderr)
        return 2
    print(hash_key(key))
    return 0


def _serve(args: argparse.Namespace) -> int:
    path = args.config or os.environ.get(CONFIG_ENV) or None
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"primum serve: {exc}", file=sys.stderr)
        return 2
    host = args.host or config.server.host
    port = args.port or config.server.port
    workers = args.workers or config.server.workers
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    import uvicorn

    if workers > 1 or config.metrics.multiproc_dir or os.environ.get(MULTIPROC_ENV):
        # Before any import of prometheus_client in a process that serves metrics.
        directory = config.metrics.multiproc_dir or os.environ.get(MULTIPROC_ENV) or (
            tempfile.mkdtemp(prefix="primum-metrics-"))
        from guard.metrics import prepare_multiproc_dir

        os.environ[MULTIPROC_ENV] = str(prepare_multiproc_dir(directory).resolve())
    if workers > 1:
        if path is not None:
            os.environ[CONFIG_ENV] = str(Path(path).resolve())
        uvicorn.run("proxy.wiring:app_factory", factory=True, host=host, port=port,
                    workers=workers, proxy_headers=False)
        return 0

    from proxy.wiring import build_app

    uvicorn.run(build_app(config), host=host, port=port, proxy_headers=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
