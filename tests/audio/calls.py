"""Synthetic call audio with known answers: speech-like noise where each side speaks, silence
elsewhere, so tests know to the sample where speech, PII and gaps are."""

from __future__ import annotations

import io
import wave

import numpy as np

RATE = 8_000
SPEECH_AMPLITUDE = 4_000


def speech(ms: int, seed: int) -> np.ndarray:
    """Speech-like noise: random samples shaped by a syllable-rate envelope, never silent."""
    n = ms * RATE // 1000
    rng = np.random.default_rng(seed)
    envelope = 0.6 + 0.4 * np.abs(np.sin(np.arange(n) * 2 * np.pi * 4 / RATE))
    return (rng.uniform(-1, 1, n) * SPEECH_AMPLITUDE * envelope).astype(np.int16)


def call(duration_ms: int, caller: list[tuple[int, int]], agent: list[tuple[int, int]]) -> np.ndarray:
    """(frames, 2) samples: channel 0 the caller, 1 the agent, speaking in the given ms spans."""
    samples = np.zeros((duration_ms * RATE // 1000, 2), dtype=np.int16)
    for channel, spans in ((0, caller), (1, agent)):
        for index, (start, end) in enumerate(spans):
            a, b = start * RATE // 1000, end * RATE // 1000
            samples[a:b, channel] = speech(end - start, seed=channel * 1000 + index)[: b - a]
    return samples


def wav_bytes(samples: np.ndarray, rate: int = RATE) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(samples.shape[1])
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return buffer.getvalue()


def wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data), "rb") as reader:
        frames = reader.readframes(reader.getnframes())
        channels, rate = reader.getnchannels(), reader.getframerate()
    return np.frombuffer(frames, dtype="<i2").reshape(-1, channels), rate


def rms(samples: np.ndarray) -> float:
    values = samples.astype(np.float64)
    return float(np.sqrt(np.mean(values * values)))


# The call of the tests: the caller gives a phone number (words 3-5), the agent answers 700 ms
# later as reported; then the caller asks again and the agent answers 800 ms after the caller
# stops, though the pipeline reported 100 ms (a flagged turn).
CALLER_SPANS = [(500, 2000), (4500, 5200)]
AGENT_SPANS = [(2700, 4000), (6000, 7000)]
DURATION_MS = 7_500
TURNS = [
    {
        "seq": 0,
        "role": "caller",
        "text": "my number is 415 555 0132",
        "start_ms": 500,
        "end_ms": 2000,
        "words": [
            {"text": "my", "start_ms": 500, "end_ms": 700},
            {"text": "number", "start_ms": 700, "end_ms": 1000},
            {"text": "is", "start_ms": 1000, "end_ms": 1150},
            {"text": "415", "start_ms": 1200, "end_ms": 1500},
            {"text": "555", "start_ms": 1500, "end_ms": 1750},
            {"text": "0132", "start_ms": 1750, "end_ms": 2000},
        ],
    },
    {"seq": 1, "role": "agent", "text": "Thanks, let me check that.", "start_ms": 2700, "end_ms": 4000},
    {"seq": 2, "role": "caller", "text": "Is it there?", "start_ms": 4500, "end_ms": 5200},
    {"seq": 3, "role": "agent", "text": "Yes, I found it.", "start_ms": 5300, "end_ms": 7000},
]
# Where the number was said, as the words place it (before padding).
PII_MS = (1200, 2000)


def sample_call() -> np.ndarray:
    return call(DURATION_MS, CALLER_SPANS, AGENT_SPANS)
