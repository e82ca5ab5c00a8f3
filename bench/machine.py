"""How busy the machine is with work that is not the benchmark's (other test runs on a shared box).

``CpuMeter`` measures, over a scenario, the CPU the whole machine used minus what this process and
its own PostgreSQL backends used: the foreign load, in cores. ``wait_for_quiet`` waits (bounded)
for the machine to settle before a scenario starts.
"""

from __future__ import annotations

import os
import time

TICKS = os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs since boot."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


def _process_ticks(pid: int | str) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


def busy_fraction(interval: float = 1.0) -> float:
    """Fraction of all CPUs busy over ``interval`` seconds."""
    busy0, total0 = _machine_ticks()
    time.sleep(interval)
    busy1, total1 = _machine_ticks()
    return (busy1 - busy0) / max(1, total1 - total0)


def wait_for_quiet(max_wait: float, threshold: float = 0.3) -> dict:
    """Wait until under ``threshold`` of all CPUs are busy, for at most ``max_wait`` seconds."""
    began = time.monotonic()
    busy = busy_fraction()
    while busy > threshold and time.monotonic() - began < max_wait:
        time.sleep(2)
        busy = busy_fraction()
    return {"busy_before": round(busy, 2), "waited_s": round(time.monotonic() - began, 1)}


class CpuMeter:
    """Foreign CPU (cores) during a block: machine busy minus ours (this process + given pids)."""

    def __init__(self, pids: list[int]):
        self.pids = ["self", *pids]
        self.extra_seconds = 0.0  # CPU of our processes that exited during the block

    def __enter__(self) -> CpuMeter:
        self.wall = time.monotonic()
        self.machine = _machine_ticks()
        self.ours = sum(_process_ticks(pid) for pid in self.pids)
        return self

    def __exit__(self, *exc) -> None:
        wall = max(1e-6, time.monotonic() - self.wall)
        busy = _machine_ticks()[0] - self.machine[0]
        ours = sum(_process_ticks(pid) for pid in self.pids) - self.ours + self.extra_seconds * TICKS
        self.ours_cores = round(ours / TICKS / wall, 2)
        self.foreign_cores = round(max(0, busy - ours) / TICKS / wall, 2)
