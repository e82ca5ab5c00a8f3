"""Demo call audio: twelve demo sessions spoken by espeak-ng, caller and agent on their own channels.

``python -m qa_app.demo.audio`` renders them (it needs Debian's espeak-ng and sox) into
``qa_app/demo/audio/``: one Ogg Vorbis file per session (8 kHz, two channels, a few hundred KB)
and ``manifest.json`` with each turn's start and end and its word timings as the audio has them.
The output is committed, so ``seed_demo`` on a fresh machine needs neither tool: it stores the
spoken calls (their turns where the audio has them), attaches the files, and the app makes the
redacted rendition and measures latency as it would for a real call.

Each turn is spoken in pieces split where the transcript detector finds PII, so the word timings of
a spoken phone number or card are exact and its bleep covers it; other words share their piece's
time by length. Two of the calls report one agent turn 800 ms earlier than the audio has it (a
pipeline that logs the response before the speech starts), so the latency flag has something to
show.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from qa_app.demo.sessions import AGENTS, DemoReview, DemoSession, generate_demo_sessions
from sessions_app.redaction import find_pii

FOLDER = Path(__file__).with_name("audio")
MANIFEST = FOLDER / "manifest.json"
RATE = 8_000
COUNT = 12
# Where the demo's sessions come from: seed_demo's defaults (its stream ids don't depend on now).
SEED, SESSIONS = 7, 240
VOICES = {"caller": "en-us+m3", "agent": "en-us+f2"}
CHANNEL = {"caller": 0, "agent": 1}
PIECE_GAP_MS = 90
MISREPORTED = 2
MISREPORT_MS = 800


def manifest() -> dict[str, dict]:
    """Rendered sessions by stream_id (empty when none were rendered)."""
    if not MANIFEST.exists():
        return {}
    return json.loads(MANIFEST.read_text())


def audio_path(stream_id: str) -> Path:
    return FOLDER / f"{stream_id}.ogg"


def spoken_session(item: DemoSession, entry: dict) -> DemoSession:
    """The call as it was spoken (its turns where the audio has them, its tool calls, summary and
    review), at the time the live demo gives it. A demo call's words depend on the day it is
    generated for, so the spoken one replaces it whole rather than by turn."""
    started = dt.datetime.fromisoformat(str(item.payload["started_at"]))
    payload = {
        **entry["payload"],
        "stream_id": item.payload["stream_id"],
        "started_at": started.isoformat(),
        "ended_at": (started + dt.timedelta(milliseconds=entry["duration_ms"])).isoformat(),
    }
    review = DemoReview(**entry["review"]) if entry.get("review") else None
    return DemoSession(payload=payload, review=review)


# --- rendering (developer machines with espeak-ng and sox) ----------------------------------------


def _speak(text: str, voice: str, folder: Path) -> np.ndarray:
    raw, phone = folder / "tts.wav", folder / "phone.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "160", "-w", str(raw), text], check=True)
    # Down to a phone line: 8 kHz, 300-3400 Hz, a little quieter than full scale.
    subprocess.run(
        ["sox", str(raw), "-r", str(RATE), str(phone), "sinc", "300-3400", "gain", "-3"], check=True
    )
    with wave.open(str(phone), "rb") as reader:
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2").astype(np.int16)
    loud = np.flatnonzero(np.abs(samples) > 300)
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples[:0]


def _pieces(text: str) -> list[tuple[int, int]]:
    """Character ranges to speak one at a time: the PII spans and the text between them."""
    cuts, position = [], 0
    for span in find_pii(text):
        if span.start > position:
            cuts.append((position, span.start))
        cuts.append((span.start, span.end))
        position = span.end
    if position < len(text):
        cuts.append((position, len(text)))
    return [(a, b) for a, b in cuts if text[a:b].strip()]


def _word_timings(text: str, piece: tuple[int, int], start_ms: int, length_ms: int) -> list[dict]:
    a, b = piece
    words, position = [], a
    for token in text[a:b].split():
        at = text.index(token, position)
        words.append((token, at))
        position = at + len(token)
    total = sum(len(token) + 1 for token, _ in words) or 1
    timings, cursor = [], start_ms
    for token, _ in words:
        share = round(length_ms * (len(token) + 1) / total)
        timings.append({"text": token, "start_ms": cursor, "end_ms": cursor + share})
        cursor += share
    if timings:
        timings[-1]["end_ms"] = start_ms + length_ms
    return timings


def _render_turn(text: str, voice: str, folder: Path) -> tuple[np.ndarray, list[dict]]:
    audio, words, cursor = [], [], 0
    gap = np.zeros(PIECE_GAP_MS * RATE // 1000, dtype=np.int16)
    for piece in _pieces(text):
        spoken = _speak(text[piece[0] : piece[1]], voice, folder)
        length = len(spoken) * 1000 // RATE
        words.extend(_word_timings(text, piece, cursor, length))
        audio.extend([spoken, gap])
        cursor += length + PIECE_GAP_MS
    return (np.concatenate(audio[:-1]) if audio else np.zeros(0, dtype=np.int16)), words


def _pick(demo) -> list:
    """Completed calls of a listenable length, taken from each agent in turn, PII calls first."""
    calls = [
        item
        for item in demo
        if item.payload["status"] == "completed" and 6 <= len(item.payload["transcript"]) <= 16
    ]
    calls.sort(key=lambda i: not any(find_pii(t.get("text") or "") for t in i.payload["transcript"]))
    by_agent = {agent: [i for i in calls if i.payload["agent_key"] == agent] for agent in AGENTS}
    chosen: list = []
    while len(chosen) < COUNT and any(by_agent.values()):
        for waiting in by_agent.values():
            if waiting and len(chosen) < COUNT:
                chosen.append(waiting.pop(0))
    return chosen


def render(folder: Path = FOLDER) -> dict[str, dict]:
    demo = generate_demo_sessions(count=SESSIONS, seed=SEED, now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(SEED)
    rendered: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        for index, item in enumerate(_pick(demo)):
            payload = item.payload
            turns, pieces, cursor, previous_end = [], [], 600, None
            channel_end = [0, 0]
            for turn in payload["transcript"]:
                role, text = turn["role"], turn.get("text") or ""
                original_gap = (
                    turn["start_ms"] - previous_end
                    if turn.get("start_ms") is not None and previous_end is not None
                    else 600
                )
                gap = int(np.clip(original_gap, -600, 2500)) if role in VOICES else 0
                start = max(0, cursor + gap) if previous_end is not None else cursor
                if role not in VOICES or not text.strip():
                    turns.append({"seq": turn["seq"], "text": text, "start_ms": start, "end_ms": start})
                    continue
                # One voice never overlaps itself (a barge-in overlaps the other side only).
                start = max(start, channel_end[CHANNEL[role]] + 450)
                audio, words = _render_turn(text, VOICES[role], scratch_path)
                length = len(audio) * 1000 // RATE
                pieces.append((CHANNEL[role], start, audio))
                turns.append(
                    {
                        "seq": turn["seq"],
                        "text": text,
                        "start_ms": start,
                        "end_ms": start + length,
                        "words": [
                            {**w, "start_ms": w["start_ms"] + start, "end_ms": w["end_ms"] + start}
                            for w in words
                        ],
                    }
                )
                previous_end = cursor = channel_end[CHANNEL[role]] = start + length
            duration = cursor + 800
            mix = (rng.normal(0, 25, (duration * RATE // 1000, 2))).astype(np.int32)
            for channel, start, audio in pieces:
                a = start * RATE // 1000
                mix[a : a + len(audio), channel] += audio
            if index < MISREPORTED:
                _misreport(turns, payload["transcript"])
            stereo = np.clip(mix, -32768, 32767).astype("<i2")
            mixed = scratch_path / "mix.wav"
            with wave.open(str(mixed), "wb") as writer:
                writer.setnchannels(2)
                writer.setsampwidth(2)
                writer.setframerate(RATE)
                writer.writeframes(stereo.tobytes())
            stream_id = payload["stream_id"]
            subprocess.run(["sox", str(mixed), "-C", "0", str(folder / f"{stream_id}.ogg")], check=True)
            timed = {turn["seq"]: turn for turn in turns}
            spoken = {
                key: value
                for key, value in payload.items()
                if key not in ("stream_id", "started_at", "ended_at")
            }
            spoken["transcript"] = [
                {**turn, **{k: v for k, v in timed[turn["seq"]].items() if k != "text"}}
                for turn in payload["transcript"]
            ]
            rendered[stream_id] = {
                "agent_key": payload["agent_key"],
                "duration_ms": duration,
                "payload": spoken,
                "review": dataclasses.asdict(item.review) if item.review else None,
            }
    MANIFEST.write_text(json.dumps(rendered, indent=1, sort_keys=True) + "\n")
    return rendered


def _misreport(turns: list[dict], transcript: list[dict]) -> None:
    """Move the first agent answer's reported start 800 ms earlier than its audio."""
    roles = {turn["seq"]: turn["role"] for turn in transcript}
    for previous, turn in itertools.pairwise(turns):
        gap = turn["start_ms"] - previous["end_ms"]
        if roles.get(turn["seq"]) == "agent" and roles.get(previous["seq"]) == "caller" and gap >= 700:
            turn["start_ms"] = previous["end_ms"] + max(0, gap - MISREPORT_MS)
            turn.pop("words", None)
            return


if __name__ == "__main__":
    for stream_id, entry in render().items():
        size = audio_path(stream_id).stat().st_size
        print(
            f"{stream_id} {entry['agent_key']:<17} {entry['duration_ms'] / 1000:6.1f} s {size / 1024:7.1f} KB"
        )
