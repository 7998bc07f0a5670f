"""Real servers on free loopback ports: uvicorn in background threads (tests and
benchmarks), and processes (``primum serve``, a Prometheus binary) for the e2e tests."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn


class ServerThread:
    """Run an ASGI app with uvicorn on ``127.0.0.1:<free port>`` until ``stop()``.

    The socket is bound here and handed to uvicorn, so the port is known before the
    server starts and no other process can take it in between.
    """

    def __init__(self, app: Any, *, lifespan: str = "on") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, lifespan=lifespan, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self, timeout_s: float = 30.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("server thread exited during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_until(predicate: Any, timeout_s: float = 30.0, interval_s: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout_s} s")
        time.sleep(interval_s)


def free_port() -> int:
    """A loopback port that was free a moment ago (for a subprocess that binds it itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def stop_process(proc: subprocess.Popen[Any], timeout_s: float = 20.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout_s``."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class PrometheusProcess:
    """A real Prometheus binary on a free loopback port; config, rules and data in ``workdir``.

    ``config`` is the text of prometheus.yml; ``rule_files`` are copied beside it, so the
    config names them by file name. ``start()`` returns once Prometheus answers /-/ready.
    """

    def __init__(
        self, binary: str | Path, workdir: Path, config: str, rule_files: tuple[Path, ...] = ()
    ) -> None:
        self.binary = str(binary)
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_file = workdir / "prometheus.log"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "prometheus.yml").write_text(config, encoding="utf-8")
        for rule_file in rule_files:
            (workdir / rule_file.name).write_text(rule_file.read_text(encoding="utf-8"))
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> PrometheusProcess:
        with self.log_file.open("wb") as log:
            self._proc = subprocess.Popen(
                [self.binary, f"--config.file={self.workdir / 'prometheus.yml'}",
                 f"--storage.tsdb.path={self.workdir / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT,
            )
        proc = self._proc

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"prometheus exited with {proc.returncode}:\n{self.log()}")
            try:
                return httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, timeout_s=timeout_s, interval_s=0.1)
        return self

    def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/<path>; its ``data``, or AssertionError with Prometheus' error."""
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body = response.json()
        assert response.status_code == 200 and body.get("status") == "success", (
            f"{path} {params}: {response.status_code} {body.get('errorType')}: "
            f"{body.get('error')}"
        )
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result (vector or scalar, as a list of samples)."""
        data = self.api("query", query=expr)
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        result: list[dict[str, Any]] = data["result"]
        return result

    def log(self, chars: int = 5000) -> str:
        return self.log_file.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self._proc is not None:
            stop_process(self._proc)

    def __enter__(self) -> PrometheusProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
