"""Real gunicorn servers for black-box tests: the app as production runs it, in a subprocess."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "black-box-test-secret-key-" + "x" * 40,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "LOG_LEVEL": "WARNING",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(base_url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base_url}/health/live", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{log.read_text()}")


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], *, workers: int = 1, log_dir: Path, extra_args: tuple = ()
) -> Iterator[str]:
    """Serve config.wsgi with production settings plus ``env``; yields the base URL.

    The access log (``log_dir / "access.log"``) records each request's worker pid, so a test can
    show that more than one worker answered.
    """
    port = free_port()
    log = log_dir / "gunicorn.log"
    command = [
        str(GUNICORN), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--access-logfile", str(log_dir / "access.log"), "--access-logformat", "%(p)s %(s)s %(U)s",
        "--error-logfile", str(log), "--graceful-timeout", "2", *extra_args,
    ]  # fmt: skip
    environment = {**os.environ, **PRODUCTION_ENV, **env}
    process = subprocess.Popen(command, cwd=ROOT, env=environment, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process, log)
        yield base_url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def worker_pids(log_dir: Path) -> set[str]:
    lines = (log_dir / "access.log").read_text().splitlines() if (log_dir / "access.log").exists() else []
    return {line.split()[0] for line in lines if line.strip()}
