"""One pass over a recording: the redacted rendition (PII spans replaced by a tone), the waveform
peaks, and per channel where speech is; then, from a two-channel call, the response latency of
each agent turn as the audio heard it.

Speech is found by energy: 20 ms frames whose RMS is well above the channel's own noise floor,
with pauses shorter than a breath closed and clicks shorter than a syllable dropped. That is what
"first sound" means for latency, and it needs no model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sessions_app.audio.media import WavWriter

FRAME_MS = 20
TONE_HZ = 1_000
# 30% of full scale: clearly a bleep, never clipping. Its RMS is TONE_AMPLITUDE / sqrt(2).
TONE_AMPLITUDE = 0.3 * 32_767
# Speech: RMS above max(floor * FLOOR_FACTOR, MIN_SPEECH_RMS) (int16 units; 250 is about -42 dBFS).
FLOOR_FACTOR = 4.0
MIN_SPEECH_RMS = 250.0
CLOSE_GAP_MS = 300
MIN_SPEECH_MS = 60
# A silence worth reporting: neither side speaks for this long inside the call.
PEAKS_PER_CHANNEL = 4_000


@dataclass(frozen=True)
class Bleep:
    start_ms: int
    end_ms: int


@dataclass
class Pass:
    """What one pass over the samples found."""

    channels: int
    sample_rate: int
    frames: int = 0
    rms: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), dtype=np.float32))
    peak: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), dtype=np.float32))

    @property
    def duration_ms(self) -> int:
        return self.frames * 1000 // self.sample_rate


def _sample_spans(bleeps: Iterable[Bleep], sample_rate: int) -> list[tuple[int, int]]:
    spans = sorted(
        (max(0, b.start_ms) * sample_rate // 1000, b.end_ms * sample_rate // 1000)
        for b in bleeps
        if b.end_ms > b.start_ms
    )
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _tone(start: int, end: int, sample_rate: int) -> np.ndarray:
    t = np.arange(start, end, dtype=np.float64) / sample_rate
    return (TONE_AMPLITUDE * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.int16)


def render(
    blocks: Iterable[np.ndarray],
    *,
    channels: int,
    sample_rate: int,
    bleeps: Sequence[Bleep] = (),
    out: WavWriter | None = None,
) -> Pass:
    """Read every block once: write it to ``out`` with each bleep span replaced by the tone on every
    channel, and keep per 20 ms frame the RMS of the original (where speech is) and the peak of
    what was written (the waveform the player draws)."""
    spans = _sample_spans(bleeps, sample_rate)
    frame = max(1, sample_rate * FRAME_MS // 1000)
    rms_parts, peak_parts = [], []
    carry_raw = np.zeros((0, channels), dtype=np.int16)
    carry_out = carry_raw
    position = 0
    for block in blocks:
        n = len(block)
        written = block
        for start, end in spans:
            lo, hi = max(start, position), min(end, position + n)
            if lo < hi:
                if written is block:
                    written = block.copy()
                written[lo - position : hi - position, :] = _tone(lo, hi, sample_rate)[:, None]
        if out is not None:
            out.write(written)
        position += n
        raw = np.concatenate([carry_raw, block]) if len(carry_raw) else block
        done = np.concatenate([carry_out, written]) if len(carry_out) else written
        whole = len(raw) - len(raw) % frame
        if whole:
            shaped = raw[:whole].astype(np.float32).reshape(-1, frame, channels)
            rms_parts.append(np.sqrt(np.mean(shaped * shaped, axis=1)))
            peak_parts.append(
                np.abs(done[:whole].astype(np.float32)).reshape(-1, frame, channels).max(axis=1)
            )
        carry_raw, carry_out = raw[whole:], done[whole:]
    if len(carry_raw):
        tail = carry_raw.astype(np.float32)
        rms_parts.append(np.sqrt(np.mean(tail * tail, axis=0, keepdims=True)))
        peak_parts.append(np.abs(carry_out.astype(np.float32)).max(axis=0, keepdims=True))
    empty = np.zeros((0, channels), dtype=np.float32)
    return Pass(
        channels=channels,
        sample_rate=sample_rate,
        frames=position,
        rms=np.concatenate(rms_parts) if rms_parts else empty,
        peak=np.concatenate(peak_parts) if peak_parts else empty,
    )


def peaks(result: Pass, points: int = PEAKS_PER_CHANNEL) -> list[list[float]]:
    """Per channel, at most ``points`` peaks in [0, 1] (the waveform; wavesurfer mirrors them)."""
    if not len(result.peak):
        return [[] for _ in range(result.channels)]
    per = max(1, -(-len(result.peak) // points))
    padded = len(result.peak) + (-len(result.peak)) % per
    frames = np.zeros((padded, result.channels), dtype=np.float32)
    frames[: len(result.peak)] = result.peak
    reduced = frames.reshape(-1, per, result.channels).max(axis=1) / 32_768.0
    return [[round(float(v), 3) for v in reduced[:, ch]] for ch in range(result.channels)]


def speech_segments(rms: np.ndarray) -> list[tuple[int, int]]:
    """[start_ms, end_ms) runs of speech in one channel's frame RMS."""
    if not len(rms):
        return []
    floor = float(np.percentile(rms, 10))
    active = rms > max(floor * FLOOR_FACTOR, MIN_SPEECH_RMS)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(np.int8), [0]])))
    runs = [[int(a), int(b)] for a, b in zip(edges[::2], edges[1::2], strict=True)]
    close, shortest = CLOSE_GAP_MS // FRAME_MS, MIN_SPEECH_MS // FRAME_MS
    merged: list[list[int]] = []
    for run in runs:
        if merged and run[0] - merged[-1][1] < close:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    return [(a * FRAME_MS, b * FRAME_MS) for a, b in merged if b - a >= shortest]


def _overlap(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    total, i, j = 0, 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        total += max(0, hi - lo)
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def silences(segments: list[tuple[int, int]], min_ms: int) -> list[tuple[int, int]]:
    """Stretches inside the call (between its first and last speech) of at least ``min_ms`` with no
    speech on any channel."""
    found, reach = [], None
    for start, end in sorted(segments):
        if reach is not None and start - reach >= min_ms:
            found.append((reach, start))
        reach = end if reach is None else max(reach, end)
    return found


def longest_silence(segments: list[tuple[int, int]]) -> int:
    """The longest stretch inside the call (between its first and last speech) with no speech."""
    ordered = sorted(segments)
    longest, reach = 0, None
    for start, end in ordered:
        if reach is not None and start > reach:
            longest = max(longest, start - reach)
        reach = end if reach is None else max(reach, end)
    return longest


@dataclass(frozen=True)
class TurnTiming:
    turn_seq: int
    caller_end_ms: int | None
    agent_start_ms: int | None
    measured_ms: int | None
    reported_ms: int | None
    talk_over_ms: int
    flagged: bool


@dataclass(frozen=True)
class Conversation:
    timings: list[TurnTiming]
    talk_over_ms: int
    longest_silence_ms: int


def conversation(
    caller: list[tuple[int, int]],
    agent: list[tuple[int, int]],
    turns: Sequence[dict],
    *,
    flag_ms: int,
) -> Conversation:
    """Per agent turn that answers the caller: the gap from the caller's last sound before the
    agent's first sound of the turn to that first sound (negative when the agent talked over the
    caller), beside the gap the turns' own timings report, flagged when they differ by more than
    ``flag_ms``.

    The turn's first sound is the first agent speech that starts after the previous agent turn
    ended (by its reported end) and after the caller began speaking again."""
    timings = []
    ordered = sorted(turns, key=lambda t: t["seq"])
    previous_agent_end, previous_caller = 0, None
    for turn in ordered:
        role = turn.get("role")
        if role == "caller":
            previous_caller = turn
            continue
        if role != "agent":
            continue
        if previous_caller is not None:
            timings.append(_timing(turn, previous_caller, previous_agent_end, caller, agent, flag_ms))
        previous_caller = None
        if turn.get("end_ms") is not None:
            previous_agent_end = turn["end_ms"]
    return Conversation(
        timings=timings,
        talk_over_ms=_overlap(caller, agent),
        longest_silence_ms=longest_silence(caller + agent),
    )


def _timing(turn, previous_caller, lo, caller, agent, flag_ms) -> TurnTiming:
    reported = None
    if turn.get("start_ms") is not None and previous_caller.get("end_ms") is not None:
        reported = turn["start_ms"] - previous_caller["end_ms"]
    # The caller's speech of this exchange: from the caller turn's own start (it may have begun
    # while the agent was still speaking, a barge-in), else from the previous agent turn's end.
    since = previous_caller.get("start_ms")
    since = lo if since is None else min(since, lo)
    spoken = [
        segment
        for segment in caller
        if segment[1] > since - CLOSE_GAP_MS and segment[0] >= since - CLOSE_GAP_MS
    ]
    onset = None
    if spoken:
        onset = next((s for s in agent if s[0] >= lo and s[0] > spoken[0][0]), None)
    before = [segment for segment in spoken if onset is not None and segment[0] < onset[0]]
    if before:
        last = max(before, key=lambda segment: segment[1])
        # An agent that never stopped while the caller last spoke (a "yes" under its own speech)
        # gives no response to measure: its next pause is not an answer.
        if any(s[0] < last[0] and s[1] >= last[1] for s in agent):
            onset = None
    if onset is None:
        return TurnTiming(turn["seq"], None, None, None, reported, 0, False)
    caller_end = max(end for _, end in before)
    measured = onset[0] - caller_end
    talk_over = _overlap(before, [onset])
    flagged = reported is not None and abs(measured - reported) > flag_ms
    return TurnTiming(turn["seq"], caller_end, onset[0], measured, reported, talk_over, flagged)
