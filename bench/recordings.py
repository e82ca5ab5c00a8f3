"""Benchmark of recordings (issue 15): ingest work and playback start.

    python -m bench.recordings                # 10-minute ingest x5, 60-minute call, 50 range reads
    python -m bench.recordings --runs 10 --reads 200

Runs against a throwaway SQLite database and recordings folder (the work is the audio, not SQL),
with the production settings otherwise. It prints, and writes to ``bench/results/recordings-*.json``:

* **ingest**, for a 10-minute two-channel 8 kHz WAV with ~90 timed turns (a phone number in
  every tenth caller turn): the request's part (``recording_store``: checks, digest, storing) and the
  background work (``recording_process``: one pass making the redacted rendition, the peaks and
  the speech segments, then the latency per agent turn), with the peak memory the work allocated
  (tracemalloc, numpy included) and the process's resident-set growth. Target: work <= 2 s.
* **playback start** of a 60-minute call: the time until the first byte-range response of its
  redacted rendition is in hand (``Range: bytes=0-65535``, then a seek to the middle), through
  the real view, middleware and storage. Target: <= 100 ms.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import wave
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
RATE = 8_000
INGEST_TARGET_S = 2.0
PLAYBACK_TARGET_MS = 100.0


def _setup(folder: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "RECORDINGS_ROOT": str(folder / "recordings"),
            "API_RATE_LIMIT_PER_KEY": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _call(minutes: int, seed: int = 1) -> tuple[bytes, list[dict]]:
    """A call of alternating turns: speech-like noise on the speaker's channel, ~5 s turns with
    0.4-2.4 s gaps, and timed words; every tenth caller turn gives a phone number."""
    rng = np.random.default_rng(seed)
    total = minutes * 60 * RATE
    samples = np.zeros((total, 2), dtype=np.int16)
    samples += rng.normal(0, 20, samples.shape).astype(np.int16)
    turns, at, seq = [], 500, 0
    while True:
        role = "agent" if seq % 2 == 0 else "caller"
        length = int(rng.uniform(2_000, 8_000))
        if (at + length) * RATE // 1000 >= total:
            break
        a, b = at * RATE // 1000, (at + length) * RATE // 1000
        samples[a:b, 0 if role == "caller" else 1] += (rng.uniform(-1, 1, b - a) * 4000).astype(np.int16)
        words_text = ["so", "the", "order", "is", "late", "and", "I", "need", "it", "today"]
        if role == "caller" and seq % 20 == 1:
            words_text = ["my", "number", "is", "415", "555", "0132"]
        step = length // len(words_text)
        words = [
            {"text": text, "start_ms": at + i * step, "end_ms": at + (i + 1) * step}
            for i, text in enumerate(words_text)
        ]
        turns.append(
            {
                "seq": seq,
                "role": role,
                "text": " ".join(words_text),
                "start_ms": at,
                "end_ms": at + length,
                "words": words,
            }
        )
        at += length + int(rng.uniform(400, 2_400))
        seq += 1
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(samples.tobytes())
    return buffer.getvalue(), turns


def _session(tenant, turns, n: int):
    from qa_app.ingest import session_upsert
    from qa_app.payloads import VoiceSessionSerializer

    payload = {
        "stream_id": f"MZbench{n:08d}",
        "agent_key": "billing-agent",
        "status": "completed",
        "transcript": turns,
    }
    serializer = VoiceSessionSerializer(data=payload)
    serializer.is_valid(raise_exception=True)
    return session_upsert(tenant=tenant, data=serializer.validated_data).session


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def ingest(tenant, runs: int) -> dict:
    from sessions_app.models import Recording
    from sessions_app.services.recordings import recording_process, recording_store

    body, turns = _call(10)
    store_s, work_s, peaks, rss = [], [], [], []
    for n in range(runs):
        session = _session(tenant, turns, n)
        started = time.perf_counter()
        stored = recording_store(
            session=session, file=io.BytesIO(body), content_type="audio/wav", queue=False
        )
        store_s.append(time.perf_counter() - started)
        before = _rss_kb()
        tracemalloc.start()
        started = time.perf_counter()
        recording_process(stored.recording.pk, stored.recording.generation)
        work_s.append(time.perf_counter() - started)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        rss.append(_rss_kb() - before)
    recording = Recording.objects.get(pk=stored.recording.pk)
    assert recording.status == "ready", recording.error
    return {
        "audio": {"minutes": 10, "channels": 2, "rate": RATE, "bytes": len(body), "turns": len(turns)},
        "bleeped_spans": len(recording.bleeped_spans),
        "timed_turns": recording.turn_timings.count(),
        "store_s": {"p50": statistics.median(store_s), "max": max(store_s)},
        "work_s": {"p50": statistics.median(work_s), "max": max(work_s)},
        "work_peak_traced_mb": max(peaks) / 2**20,
        "rss_growth_mb": max(rss) / 1024,
        "target_work_s": INGEST_TARGET_S,
        "ok": max(work_s) <= INGEST_TARGET_S,
    }


def playback(tenant, reads: int) -> dict:
    from django.test import Client

    from sessions_app.models import Scope
    from sessions_app.services import api_key_create
    from sessions_app.services.recordings import recording_process, recording_store

    body, turns = _call(60, seed=2)
    session = _session(tenant, turns, 10_000)
    stored = recording_store(session=session, file=io.BytesIO(body), content_type="audio/wav", queue=False)
    started = time.perf_counter()
    recording = recording_process(stored.recording.pk, stored.recording.generation)
    hour_work = time.perf_counter() - started
    _, key = api_key_create(tenant=tenant, name="bench", scopes=[Scope.SESSIONS_READ.value])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    url = f"/api/v1/voice-sessions/{session.pk}/recording"
    middle = recording.redacted_size_bytes // 2
    first, seek = [], []
    for _ in range(5):  # warm up
        b"".join(client.get(url, HTTP_RANGE="bytes=0-65535").streaming_content)
    for i in range(reads):
        started = time.perf_counter()
        response = client.get(url, HTTP_RANGE="bytes=0-65535")
        chunk = next(iter(response.streaming_content))
        first.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 206 and chunk
        response.close()
        offset = (middle + i * 4096) & ~1
        started = time.perf_counter()
        response = client.get(url, HTTP_RANGE=f"bytes={offset}-{offset + 65535}")
        next(iter(response.streaming_content))
        seek.append((time.perf_counter() - started) * 1000)
        response.close()

    def summary(values):
        ordered = sorted(values)
        return {
            "p50": statistics.median(ordered),
            "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        }

    return {
        "audio": {"minutes": 60, "bytes": len(body), "rendition_bytes": recording.redacted_size_bytes},
        "hour_ingest_work_s": hour_work,
        "first_range_ms": summary(first),
        "seek_range_ms": summary(seek),
        "target_ms": PLAYBACK_TARGET_MS,
        "ok": summary(first)["p95"] <= PLAYBACK_TARGET_MS and summary(seek)["p95"] <= PLAYBACK_TARGET_MS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recordings", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="10-minute ingests (5)")
    parser.add_argument("--reads", type=int, default=50, help="range reads of the hour-long call (50)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-recordings-") as scratch:
        _setup(Path(scratch))
        from sessions_app.services import tenant_create

        tenant = tenant_create(slug="bench-recordings", name="Bench recordings")
        results = {"ingest": ingest(tenant, args.runs), "playback": playback(tenant, args.reads)}
    i, p = results["ingest"], results["playback"]
    print("recordings (issue 15)")
    print(
        f"  ingest 10 min 2ch 8 kHz ({i['audio']['bytes'] / 2**20:.1f} MB, {i['audio']['turns']} turns):"
        f" request {i['store_s']['p50'] * 1000:.0f} ms, work p50 {i['work_s']['p50']:.2f} s"
        f" max {i['work_s']['max']:.2f} s (target <= {INGEST_TARGET_S:.0f} s),"
        f" peak traced {i['work_peak_traced_mb']:.1f} MB, RSS growth {i['rss_growth_mb']:.1f} MB"
        f" -> {'ok' if i['ok'] else 'MISSED'}"
    )
    print(
        f"  60 min call ({p['audio']['bytes'] / 2**20:.0f} MB; its work {p['hour_ingest_work_s']:.1f} s):"
        f" first range p50 {p['first_range_ms']['p50']:.1f} ms p95 {p['first_range_ms']['p95']:.1f} ms,"
        f" seek p95 {p['seek_range_ms']['p95']:.1f} ms (target <= {PLAYBACK_TARGET_MS:.0f} ms)"
        f" -> {'ok' if p['ok'] else 'MISSED'}"
    )
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"recordings-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"  written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0 if i["ok"] and p["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
