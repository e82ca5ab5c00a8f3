"""The audio rules on hand-built data: where speech is, the response gap per agent turn (barge-ins
and an agent that talked through a "yes" included), silences and talk-over, the PII spans a
transcript places in the audio, the redacted word timings, and a real Celery worker processing an
upload after the request has returned."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sessions_app.audio import analysis
from sessions_app.models import Recording, RecordingStatus
from sessions_app.redaction.audio import WORD_PADDING_MS, audio_pii
from sessions_app.redaction.words import pii_word_spans, redact_words
from tests.audio.calls import RATE, sample_call, wav_bytes


def _turn(seq, role, start, end, **extra):
    return {"seq": seq, "role": role, "start_ms": start, "end_ms": end, **extra}


def test_speech_segments_find_the_spoken_spans_to_a_frame():
    samples = sample_call()
    result = analysis.render([samples], channels=2, sample_rate=RATE)
    assert analysis.speech_segments(result.rms[:, 0]) == [(500, 2000), (4500, 5200)]
    assert analysis.speech_segments(result.rms[:, 1]) == [(2700, 4000), (6000, 7000)]


def test_render_reads_blocks_of_any_size_alike():
    samples = sample_call()
    whole = analysis.render([samples], channels=2, sample_rate=RATE)
    pieces = analysis.render(
        [samples[i : i + 999] for i in range(0, len(samples), 999)], channels=2, sample_rate=RATE
    )
    assert np.allclose(whole.rms, pieces.rms) and whole.frames == pieces.frames


def test_a_barge_in_is_a_negative_gap_with_its_overlap():
    caller = [(1000, 3000)]
    agent = [(0, 800), (2600, 4000)]
    turns = [_turn(0, "agent", 0, 800), _turn(1, "caller", 1000, 3000), _turn(2, "agent", 2600, 4000)]
    (timing,) = analysis.conversation(caller, agent, turns, flag_ms=500).timings
    assert timing.measured_ms == -400 and timing.talk_over_ms == 400
    assert timing.reported_ms == -400 and not timing.flagged


def test_a_caller_who_barges_into_the_agent_is_still_answered():
    # The caller starts before the agent's first turn ends; the agent answers 900 ms after.
    caller = [(1500, 3000)]
    agent = [(0, 2000), (3900, 5000)]
    turns = [_turn(0, "agent", 0, 2000), _turn(1, "caller", 1500, 3000), _turn(2, "agent", 3900, 5000)]
    (timing,) = analysis.conversation(caller, agent, turns, flag_ms=500).timings
    assert timing.measured_ms == 900 and timing.caller_end_ms == 3000


def test_an_agent_that_talked_through_a_yes_has_no_response_to_measure():
    caller = [(5000, 5400)]
    agent = [(0, 9000), (9400, 10000)]
    turns = [_turn(0, "agent", 0, 5200), _turn(1, "caller", 5000, 5400), _turn(2, "agent", 5500, 10000)]
    (timing,) = analysis.conversation(caller, agent, turns, flag_ms=500).timings
    assert timing.measured_ms is None and not timing.flagged


def test_a_misreported_turn_is_flagged_past_the_threshold_only():
    caller = [(0, 1000)]
    agent = [(1800, 3000)]
    for reported_start, flagged in ((1300, False), (1299, True), (2301, True), (2300, False)):
        turns = [_turn(0, "caller", 0, 1000), _turn(1, "agent", reported_start, 3000)]
        (timing,) = analysis.conversation(caller, agent, turns, flag_ms=500).timings
        assert timing.measured_ms == 800 and timing.flagged is flagged, reported_start


def test_longest_silence_is_inside_the_call():
    assert analysis.longest_silence([(500, 1000), (3000, 3500), (1200, 2000)]) == 1000
    assert analysis.longest_silence([]) == 0


def test_peaks_are_bounded_per_channel():
    samples = np.tile(sample_call(), (30, 1))  # 225 s
    result = analysis.render([samples], channels=2, sample_rate=RATE)
    peaks = analysis.peaks(result, points=1000)
    assert len(peaks) == 2 and all(len(channel) <= 1000 for channel in peaks)
    assert max(peaks[0]) == pytest.approx(4000 / 32768, abs=0.01)


def test_spoken_digits_are_found_across_words_and_collapse_into_one_placeholder():
    words = [
        {"text": "it's", "start_ms": 0, "end_ms": 200},
        *[
            {"text": digit, "start_ms": 200 + 300 * i, "end_ms": 500 + 300 * i}
            for i, digit in enumerate(
                ["four", "one", "five", "five", "five", "five", "zero", "one", "three", "two"]
            )
        ],
        {"text": "thanks", "start_ms": 3300, "end_ms": 3600},
    ]
    (span,) = pii_word_spans(words)
    assert (span.kind, span.first, span.last) == ("phone", 1, 10)
    assert redact_words(words) == [
        words[0],
        {"text": "[PHONE]", "start_ms": 200, "end_ms": 3200},
        words[-1],
    ]
    pii = audio_pii([_turn(0, "caller", 0, 3600, text=" ".join(w["text"] for w in words), words=words)])
    assert [(s.start_ms, s.end_ms) for s in pii.spans] == [(200 - WORD_PADDING_MS, 3200 + WORD_PADDING_MS)]


def test_pii_spans_fall_back_to_the_turn_and_report_untimed_turns():
    turns = [
        _turn(0, "caller", 1000, 4000, text="card 4111 1111 1111 1111 please"),
        {"seq": 1, "role": "caller", "text": "email jane.doe@gmail.com"},
        _turn(2, "agent", 5000, 6000, text="Thanks, got it."),
        _turn(3, "caller", 7000, 8000, text="it is [PHONE]"),  # stored redacted on ingest
    ]
    pii = audio_pii(turns)
    assert [(s.start_ms, s.end_ms, s.turn_seq) for s in pii.spans] == [(1000, 4000, 0), (7000, 8000, 3)]
    assert pii.untimed_turns == [1]


def test_a_real_worker_processes_the_upload_after_the_request_returned(
    transactional_db, api, make_session, tenant
):
    """Celery's own worker (in a thread, on its in-memory broker), not the eager mode: the PUT
    answers "pending", and the worker makes the recording ready afterwards."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    session = make_session(tenant, function_calls=[])
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            response = api.put(
                f"/api/v1/voice-sessions/{session.pk}/recording",
                data=wav_bytes(sample_call()),
                content_type="audio/wav",
            )
            assert response.status_code == 201 and response.json()["status"] == "pending"
            deadline = time.monotonic() + 15
            while Recording.objects.get().status != RecordingStatus.READY:
                assert time.monotonic() < deadline, Recording.objects.get().status
                time.sleep(0.05)
    finally:
        app.conf.task_always_eager = eager
    assert Recording.objects.get().redacted_name


def test_long_silences_are_the_gaps_inside_the_call():
    speech = [(0, 1000), (1500, 2000), (6000, 7000), (5000, 5500)]
    assert analysis.silences(speech, 3000) == [(2000, 5000)]
    assert analysis.silences(speech, 500) == [(1000, 1500), (2000, 5000), (5500, 6000)]
