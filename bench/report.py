"""Targets from issue 3, the results table, and the JSON written under bench/results/."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _check(ok: bool, label: str, failures: list[str]) -> None:
    if not ok:
        failures.append(label)


def evaluate(results: dict) -> None:
    """Attach ``target`` (its text) and ``ok`` (True/False/None) to every scenario and to the load test."""
    scenarios = results["scenarios"]
    for name, result in scenarios.items():
        targets = result.get("targets") or {}
        failures: list[str] = []
        texts: list[str] = []
        if "p50_ms" in targets:
            texts.append(f"p50<={targets['p50_ms']}")
            _check(result["p50_ms"] <= targets["p50_ms"], "p50", failures)
        if "p99_ms" in targets:
            texts.append(f"p99<={targets['p99_ms']}")
            _check(result["p99_ms"] <= targets["p99_ms"], "p99", failures)
        if "ratio" in targets:
            texts.append(f"xfloor<={targets['ratio']}")
            _check(result["ratio"] <= targets["ratio"], "ratio", failures)
        if result["kind"] in ("list", "detail"):
            texts.append("no seq scan")
            _check(not result["plan"]["seq_scans"], "seq scan", failures)
        if name == "cursor_deep" and "cursor_first" in scenarios:
            texts.append("<=1.5xpage 1")
            _check(result["p50_ms"] <= 1.5 * scenarios["cursor_first"]["p50_ms"], "vs page 1", failures)
        if name == "post_replay":
            texts.append("idempotent")
            _check(result.get("idempotent", False), "idempotent", failures)
        if result["kind"] == "export":
            texts = [f">={targets['sessions_per_s']:,}/s", f"<{targets['peak_mb']} MB"]
            _check(result["sessions_per_s"] >= targets["sessions_per_s"], "rate", failures)
            peak = max(result["rss_delta_mb"], result.get("tracemalloc_peak_mb", 0))
            _check(peak < targets["peak_mb"], "memory", failures)
            _check(result["sessions"] == result["expected"], "sessions", failures)
        if result.get("floor_same_data") is False:
            failures.append("floor data differs")
        result["target"] = " ".join(texts)
        result["ok"] = None if not texts else not failures
        result["failed"] = failures

    checks = results.setdefault("checks", {})
    if "list" in scenarios and "limit_200" in scenarios:
        checks["constant_queries"] = {
            "target": "limit=25 and limit=200 run the same number of queries",
            "ok": scenarios["list"]["queries"] == scenarios["limit_200"]["queries"],
            "detail": f"{scenarios['list']['queries']} vs {scenarios['limit_200']['queries']}",
        }
    load = results.get("load")
    if load and "rps" in load:
        flat = all(
            worker["end"] is not None
            and worker["start"] is not None
            and worker["end"] - worker["start"] <= max(10.0, 0.1 * worker["start"])
            for worker in load["worker_rss_mb"]
        )
        failures = []
        _check(load["rps"] >= 300, "rps", failures)
        _check(load["errors"] == 0, "errors", failures)
        _check(flat, "rss", failures)
        load["target"] = ">=300 rps, 0 errors, RSS flat"
        load["ok"] = not failures
        load["failed"] = failures


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _verdict(ok, failed) -> str:
    if ok is None:
        return "-"
    return "PASS" if ok else "FAIL: " + ",".join(failed)


RIGHT = {1, 2, 3, 4, 5, 6, 7, 9}  # numeric columns


def table(results: dict) -> str:
    header = [
        "scenario", "p50 ms", "p95 ms", "p99 ms", "floor p50", "xfloor", "queries", "peak KB", "plan",
        "noise", "target", "result", "notes",
    ]  # fmt: skip
    rows = []
    for name, result in results["scenarios"].items():
        kind = result["kind"]
        plan = result.get("plan")
        plan_text = (
            "-" if plan is None else ("SEQ " + ",".join(plan["seq_scans"]) if plan["seq_scans"] else "index")
        )
        notes = ""
        if kind == "list":
            notes = f"{result['rows']} rows, {result['response_bytes'] // 1024} KB"
            if result.get("floor_same_data") is False:
                notes += ", floor data DIFFERS"
        elif kind == "walk":
            notes = f"{result['pages']} pages in {result['total_s']} s"
        elif kind == "export":
            notes = (
                f"{result['sessions']:,} sessions in {result['seconds']} s = {result['sessions_per_s']:,}/s; "
                f"RSS +{result['rss_delta_mb']} MB"
                + (
                    f", tracemalloc peak {result['tracemalloc_peak_mb']} MB"
                    if "tracemalloc_peak_mb" in result
                    else ""
                )
            )
        elif name == "post_replay":
            notes = "idempotent" if result.get("idempotent") else "NOT idempotent"
        if kind == "export":
            rows.append(
                [name, "-", "-", "-", "-", "-", _fmt(result["queries"]), "-", "-",
                 _fmt(result.get("foreign_cores"), 2), result["target"],
                 _verdict(result["ok"], result["failed"]), notes]
            )  # fmt: skip
            continue
        floor = result.get("floor")
        rows.append(
            [
                name,
                _fmt(result["p50_ms"]),
                _fmt(result["p95_ms"]),
                _fmt(result["p99_ms"]),
                _fmt(floor["p50_ms"]) if floor else "-",
                _fmt(result.get("ratio"), 2),
                _fmt(result.get("queries")),
                _fmt(result.get("peak_kb")),
                plan_text,
                _fmt(result.get("foreign_cores"), 2),
                result.get("target") or "-",
                _verdict(result.get("ok"), result.get("failed", [])),
                notes,
            ]
        )
    load = results.get("load")
    if load and "rps" in load:
        latency = load["latency_ms"]
        rss = load["worker_rss_mb"]
        rows.append(
            [
                f"load c{load['connections']} {load['seconds']}s",
                _fmt(latency.get("p50")),
                _fmt(latency.get("p90")),
                _fmt(latency.get("p99")),
                "-",
                "-",
                "-",
                "-",
                "-",
                _fmt(load.get("foreign_cores"), 2),
                load["target"],
                _verdict(load["ok"], load["failed"]),
                f"{load['rps']} rps, {load['errors']} errors, worker RSS "
                + " ".join(f"{w['start']}→{w['end']} MB" for w in rss)
                + " (p95 column is wrk's p90)"
                + (f"; machine {load['busy_before']:.0%} busy before" if "busy_before" in load else ""),
            ]
        )
    elif load:
        rows.append(["load", *["-"] * 11, load.get("skipped", "")])
    for name, check in results.get("checks", {}).items():
        rows.append([name, *["-"] * 9, check["target"], "PASS" if check["ok"] else "FAIL", check["detail"]])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for index, row in enumerate([header, *rows]):
        cells = [
            str(cell).rjust(width) if i in RIGHT else str(cell).ljust(width)
            for i, (cell, width) in enumerate(zip(row[:-1], widths, strict=True))
        ]
        lines.append("  ".join(cells) + "  " + str(row[-1]))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths) + "  " + "-" * 5)
    return "\n".join(lines)


def write(results: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}-{results['meta']['sessions']}.json"
    text = json.dumps(results, indent=2, default=str)
    path.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    return path


def markdown(results: dict) -> str:
    """The table as Markdown, for bench/README.md: ``python -m bench.report [results.json]``."""
    lines = [
        "| scenario | p50 ms | p95 ms | p99 ms | floor p50 | app/floor | queries | peak KB | plan | noise "
        "| result |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|--:|---|",
    ]
    for name, result in results["scenarios"].items():
        plan = result.get("plan")
        plan_text = "-" if plan is None else ("**seq scan**" if plan["seq_scans"] else "index")
        verdict = _verdict(result.get("ok"), result.get("failed", []))
        if result["kind"] == "export":
            lines.append(
                f"| export | {result['sessions']:,} sessions in {result['seconds']} s = "
                f"**{result['sessions_per_s']:,}/s** | RSS +{result['rss_delta_mb']} MB | tracemalloc "
                f"{result.get('tracemalloc_peak_mb', '-')} MB | - | - | {result['queries']} | - | - | "
                f"{_fmt(result.get('foreign_cores'), 2)} | {verdict} |"
            )
            continue
        floor = result.get("floor")
        lines.append(
            f"| {name} | {_fmt(result['p50_ms'])} | {_fmt(result['p95_ms'])} | {_fmt(result['p99_ms'])} | "
            f"{_fmt(floor['p50_ms']) if floor else '-'} | {_fmt(result.get('ratio'), 2)} | "
            f"{_fmt(result.get('queries'))} | {_fmt(result.get('peak_kb'))} | {plan_text} | "
            f"{_fmt(result.get('foreign_cores'), 2)} | {verdict} |"
        )
    load = results.get("load")
    if load and "rps" in load:
        latency = load["latency_ms"]
        rss = ", ".join(f"{w['start']}→{w['end']}" for w in load["worker_rss_mb"])
        lines.append(
            f"| load: wrk -c{load['connections']} {load['seconds']} s, gunicorn -w {load['workers']} | "
            f"{_fmt(latency.get('p50'))} | {_fmt(latency.get('p90'))} (p90) | {_fmt(latency.get('p99'))} "
            "| - | - | "
            f"**{load['rps']} rps** | RSS MB {rss} | {load['errors']} errors | "
            f"{_fmt(load.get('foreign_cores'), 2)} | {_verdict(load.get('ok'), load.get('failed', []))} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    source = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "latest.json"
    loaded = json.loads(source.read_text())
    evaluate(loaded)
    print(markdown(loaded))
