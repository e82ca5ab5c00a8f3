"""Load test: gunicorn with the production settings on a free loopback port, driven by ``wrk``.

Reports requests/s, errors (non-2xx responses plus socket errors), wrk's latency percentiles and
each worker's RSS (VmRSS from /proc) after warmup, sampled every second, and at the end.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench.env import conninfo, server_environment
from bench.machine import CpuMeter

ROOT = Path(__file__).resolve().parent.parent
WARMUP_SECONDS = 10
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def ensure_wrk() -> tuple[str | None, str]:
    """The wrk binary, installing Debian's package when missing. Returns (path, note)."""
    found = shutil.which("wrk")
    if found:
        return found, ""
    print("bench.load: wrk is missing; installing Debian's wrk package (apt-get install -y wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = subprocess.run(
        ["apt-get", "install", "-y", "-q", "wrk"], env=env, capture_output=True, text=True
    )
    if install.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        install = subprocess.run(
            ["apt-get", "install", "-y", "-q", "wrk"], env=env, capture_output=True, text=True
        )
    found = shutil.which("wrk")
    if found:
        return found, "wrk installed with apt-get"
    return None, f"wrk unavailable: apt-get said {install.stderr.strip()[-300:]}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _backend_pids(database_url: str) -> list[int]:
    """PostgreSQL backends connected to the benchmark database (the workers', and ours)."""
    import psycopg

    with psycopg.connect(conninfo(database_url), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(text)
    return round(float(match[1]) * UNITS[match[2]], 2)


def parse_wrk(output: str) -> dict:
    result: dict = {"latency_ms": {}}
    if match := re.search(r"Requests/sec:\s+([\d.]+)", output):
        result["rps"] = round(float(match[1]), 1)
    if match := re.search(r"(\d+) requests in ([\d.]+\w+)", output):
        result["requests"] = int(match[1])
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(non_2xx[1]) if non_2xx else 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["socket_errors"] = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, socket_errors.groups()), strict=True))
        if socket_errors
        else {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    )
    result["errors"] = result["non_2xx"] + sum(result["socket_errors"].values())
    distribution = output.split("Latency Distribution", 1)[-1]
    for percent, value in re.findall(r"^\s+(\d+)%\s+([\d.]+\w+)", distribution, re.MULTILINE):
        result["latency_ms"][f"p{percent}"] = _ms(value)
    if match := re.search(r"Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)", output):
        result["latency_ms"]["mean"] = _ms(match[1])
        result["latency_ms"]["max"] = _ms(match[3])
    return result


def run(
    *,
    database_url: str,
    raw_key: str,
    seconds: int,
    workers: int = 2,
    connections: int = 16,
    threads: int = 2,
    path: str = "/api/v1/voice-sessions?limit=25",
) -> dict:
    wrk, note = ensure_wrk()
    if wrk is None:
        return {"skipped": note}
    port = free_port()
    env = {**os.environ, **server_environment(database_url)}
    env.pop("DATABASE_REPLICA_URL", None)
    log = Path(tempfile.gettempdir()) / f"bench-gunicorn-{port}.log"
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi",
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--error-logfile",
        str(log),
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {raw_key}"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health/live", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {log}") from None
                time.sleep(0.2)
        for _ in range(20 * workers):  # warm every worker: imports, connection, first queries
            request = urllib.request.Request(base + path, headers=headers)
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        wrk_command = [
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {raw_key}",
            base + path,
        ]
        # A short run at full concurrency first: worker memory grows while its caches and
        # allocator arenas fill; "flat" is judged from there on.
        warmup = [*wrk_command[:3], f"-d{WARMUP_SECONDS}s", *wrk_command[4:]]
        subprocess.run(warmup, capture_output=True, text=True, timeout=WARMUP_SECONDS + 60)
        pids = children(server.pid)
        rss_start = {pid: rss_mb(pid) for pid in pids}
        rss_max = dict(rss_start)
        series: list[list] = []
        stop = threading.Event()
        began = time.monotonic()

        def sample():
            while not stop.wait(1.0):
                values = [rss_mb(pid) for pid in pids]
                series.append([round(time.monotonic() - began, 1), *values])
                for pid, value in zip(pids, values, strict=True):
                    if value is not None:
                        rss_max[pid] = max(rss_max[pid] or 0, value)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        ours = [server.pid, *pids, *_backend_pids(database_url)]
        with CpuMeter(ours) as meter:
            reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
            driver = subprocess.Popen(wrk_command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            stdout, stderr = driver.communicate(timeout=seconds + 60)
            # wrk has exited and been reaped: its CPU is in the children's rusage.
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            meter.extra_seconds = (after.ru_utime + after.ru_stime) - (reaped.ru_utime + reaped.ru_stime)
        stop.set()
        sampler.join()
        rss_end = {pid: rss_mb(pid) for pid in pids}
        result = parse_wrk(stdout)
        result.update(
            {
                "command": " ".join([*wrk_command[:5], "-H", "'Authorization: Bearer …'", wrk_command[-1]]),
                "server": f"gunicorn config.wsgi -w {workers} (sync workers), DEBUG=0, production settings",
                "seconds": seconds,
                "connections": connections,
                "workers": workers,
                "worker_rss_mb": [
                    {"pid": pid, "start": rss_start[pid], "max": rss_max[pid], "end": rss_end[pid]}
                    for pid in pids
                ],
                "worker_rss_series": series,
                "warmup_seconds": WARMUP_SECONDS,
                "wrk_output": stdout,
                "foreign_cores": meter.foreign_cores,
                "note": note,
            }
        )
        if driver.returncode != 0:
            result["wrk_stderr"] = stderr
        return result
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
