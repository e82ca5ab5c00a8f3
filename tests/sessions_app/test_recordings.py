"""Recordings over the API: upload and replace, bad media, tenancy and scopes, the redacted
rendition (the PII span is the tone, the rest the original), raw access audited and no-store, byte
ranges, purge, and the latency measured from the audio."""

from __future__ import annotations

import datetime as dt
import os
import wave

import numpy as np
import pytest
from django.conf import settings
from django.utils import timezone

from sessions_app.audio.analysis import TONE_AMPLITUDE
from sessions_app.models import AuditEvent, Recording, RecordingStatus, RecordingTurnTiming, Scope
from sessions_app.retention import tenant_purge_expired
from sessions_app.services.recordings import recording_process, recording_storage
from tests.audio.calls import PII_MS, RATE, TURNS, rms, sample_call, wav_bytes, wav_samples

READ = [Scope.SESSIONS_READ.value]
RAW = [Scope.SESSIONS_READ.value, Scope.SESSIONS_READ_RAW.value]
TONE_RMS = TONE_AMPLITUDE / np.sqrt(2)


def _url(session) -> str:
    return f"/api/v1/voice-sessions/{session.pk}/recording"


def _stored_files() -> list[str]:
    root = settings.STORAGES["recordings"]["OPTIONS"]["location"]
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)


@pytest.fixture
def call_session(make_session, tenant):
    return make_session(tenant, transcript=TURNS, function_calls=[])


@pytest.fixture
def upload(api, django_capture_on_commit_callbacks):
    """upload(session, body=the test call, content_type=..., **query) -> response, jobs run."""

    def put(session, body=None, content_type="audio/wav", client=None, query=""):
        body = wav_bytes(sample_call()) if body is None else body
        with django_capture_on_commit_callbacks(execute=True):
            return (client or api).put(_url(session) + query, data=body, content_type=content_type)

    return put


def _ms(ms: int) -> int:
    return ms * RATE // 1000


def test_upload_stores_the_recording_and_processing_makes_it_ready(upload, api, call_session):
    response = upload(call_session)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"  # the answer precedes the work
    document = api.get(f"/api/v1/voice-sessions/{call_session.pk}").json()
    recording = document["recording"]
    assert recording["status"] == "ready"
    assert recording["channels"] == 2 and recording["channel_roles"] == ["caller", "agent"]
    assert recording["duration_ms"] == 7500
    assert recording["sample_rate"] == 8000
    assert recording["bleeped_spans"] == [[1120, 2080]]
    assert recording["url"] == _url(call_session)


def test_replacing_answers_200_and_removes_the_old_files(upload, call_session):
    assert upload(call_session).status_code == 201
    before = _stored_files()
    assert len(before) == 2  # the original and the rendition
    louder = (sample_call().astype(np.int32) * 2).clip(-32768, 32767).astype(np.int16)
    response = upload(call_session, body=wav_bytes(louder))
    assert response.status_code == 200
    after = _stored_files()
    assert len(after) == 2 and not set(before) & set(after)
    recording = Recording.objects.get(session=call_session)
    assert recording.generation == 2 and recording.status == RecordingStatus.READY


@pytest.mark.parametrize(
    ("body", "content_type", "query", "status", "param"),
    [
        (b"RIFF....WAVEnope", "audio/wav", "", 400, "body"),
        (b"", "audio/wav", "", 400, "body"),
        (b"\x00" * 64, "audio/mpeg", "", 400, "body"),
        (None, "application/json", "", 415, "Content-Type"),
        (None, "video/mp4", "", 415, "Content-Type"),
        (None, "audio/wav", "?channels=caller,caller", 400, "channels"),
        (None, "audio/wav", "?channels=agent", 400, "channels"),
    ],
)
def test_bad_media_is_refused_naming_the_fault_and_stores_nothing(
    upload, call_session, body, content_type, query, status, param
):
    response = upload(call_session, body=body, content_type=content_type, query=query)
    assert response.status_code == status, response.content
    assert response.json()["error"]["param"] == param
    assert not Recording.objects.exists()
    assert _stored_files() == []


def test_three_channels_are_refused(upload, call_session):
    samples = np.zeros((8000, 3), dtype=np.int16)
    response = upload(call_session, body=wav_bytes(samples))
    assert response.status_code == 400 and "3 channels" in response.json()["error"]["message"]
    assert _stored_files() == []


def test_a_body_over_the_limit_is_413(upload, call_session, settings):
    settings.RECORDING_MAX_BYTES = 1000
    response = upload(call_session)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not Recording.objects.exists() and _stored_files() == []


def test_another_tenants_session_is_404_for_upload_and_play(upload, client_for, other_tenant, call_session):
    assert upload(call_session).status_code == 201
    stranger = client_for(other_tenant, [Scope.SESSIONS_READ.value, Scope.SESSIONS_WRITE.value])
    assert upload(call_session, client=stranger).status_code == 404
    assert stranger.get(_url(call_session)).status_code == 404
    assert Recording.objects.get().generation == 1


def test_a_reader_cannot_upload(upload, client_for, tenant, call_session):
    response = upload(call_session, client=client_for(tenant, READ))
    assert response.status_code == 403 and "sessions:write" in response.json()["error"]["message"]


def _served(client, session, **headers) -> tuple[np.ndarray, object]:
    response = client.get(_url(session), **headers)
    assert response.status_code == 200, getattr(response, "content", b"")
    return wav_samples(b"".join(response.streaming_content))[0], response


def test_a_reader_hears_the_tone_over_the_pii_and_the_original_elsewhere(
    upload, client_for, tenant, call_session
):
    upload(call_session)
    samples, response = _served(client_for(tenant, READ), call_session)
    assert response["Content-Type"] == "audio/wav"
    original = sample_call()
    assert samples.shape == original.shape
    start, end = _ms(PII_MS[0]), _ms(PII_MS[1])
    for channel in (0, 1):
        assert rms(samples[start:end, channel]) == pytest.approx(TONE_RMS, rel=0.01)
    # The caller's words before the number, and everything after the padded span, are untouched.
    assert np.array_equal(samples[: _ms(1120)], original[: _ms(1120)])
    assert np.array_equal(samples[_ms(2080) :], original[_ms(2080) :])
    assert rms(original[start:end, 0]) != pytest.approx(TONE_RMS, rel=0.05)


def test_raw_audio_needs_raw_scope_and_is_audited_and_never_cached(upload, client_for, tenant, call_session):
    upload(call_session)
    reader = client_for(tenant, READ)
    refused = reader.get(_url(call_session) + "?raw=true")
    assert refused.status_code == 403
    assert not AuditEvent.objects.filter(action="session.raw_revealed").exists()
    raw = client_for(tenant, RAW)
    samples, response = _served(raw, call_session, QUERY_STRING="raw=true")
    assert np.array_equal(samples, sample_call())
    assert "no-store" in response["Cache-Control"]
    events = list(AuditEvent.objects.filter(action="session.raw_revealed"))
    assert len(events) == 1
    assert events[0].target_id == str(call_session.pk) and events[0].details["what"] == "recording"
    # The player's next ranges continue the same listening: not audited again.
    later = raw.get(_url(call_session) + "?raw=true", HTTP_RANGE="bytes=4000-")
    assert later.status_code == 206
    assert AuditEvent.objects.filter(action="session.raw_revealed").count() == 1


def test_a_raw_read_that_skips_the_start_is_audited_too(upload, client_for, tenant, call_session):
    upload(call_session)
    response = client_for(tenant, RAW).get(_url(call_session) + "?raw=true", HTTP_RANGE="bytes=44-")
    assert response.status_code == 206
    assert AuditEvent.objects.filter(action="session.raw_revealed").count() == 1
    # Another reader's read is their own event.
    client_for(tenant, RAW).get(_url(call_session) + "?raw=true", HTTP_RANGE="bytes=44-")
    assert AuditEvent.objects.filter(action="session.raw_revealed").count() == 2


def test_byte_ranges(upload, api, call_session):
    upload(call_session)
    whole = b"".join(api.get(_url(call_session)).streaming_content)
    first = api.get(_url(call_session), HTTP_RANGE="bytes=0-99")
    assert first.status_code == 206
    assert first["Content-Range"] == f"bytes 0-99/{len(whole)}"
    assert first["Content-Length"] == "100" and first["Accept-Ranges"] == "bytes"
    assert b"".join(first.streaming_content) == whole[:100]
    tail = api.get(_url(call_session), HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == whole[-10:]
    middle = api.get(_url(call_session), HTTP_RANGE=f"bytes=1000-{len(whole) + 500}")
    assert b"".join(middle.streaming_content) == whole[1000:]
    beyond = api.get(_url(call_session), HTTP_RANGE=f"bytes={len(whole)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(whole)}"
    # A stale If-Range gets the whole (new) file rather than bytes of another version.
    stale = api.get(_url(call_session), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old"')
    assert stale.status_code == 200


def test_the_rendition_is_409_until_processed(api, call_session):
    # Without the on-commit jobs running, the recording stays pending.
    response = api.put(_url(call_session), data=wav_bytes(sample_call()), content_type="audio/wav")
    assert response.status_code == 201
    pending = api.get(_url(call_session))
    assert pending.status_code == 409 and pending.json()["error"]["code"] == "not_ready"


def test_no_recording_is_404(api, call_session):
    response = api.get(_url(call_session))
    assert response.status_code == 404 and "no recording" in response.json()["error"]["message"]


def test_latency_is_measured_from_the_audio_and_the_misreported_turn_flagged(upload, api, call_session):
    upload(call_session)
    timings = {t.turn_seq: t for t in RecordingTurnTiming.objects.filter(session=call_session)}
    assert set(timings) == {1, 3}
    assert timings[1].measured_ms == pytest.approx(700, abs=40)
    assert timings[1].reported_ms == 700 and not timings[1].flagged
    assert timings[3].measured_ms == pytest.approx(800, abs=40)
    assert timings[3].reported_ms == 100 and timings[3].flagged
    measured = api.get(f"/api/v1/voice-sessions/{call_session.pk}").json()["recording"]["measured"]
    assert measured["flagged_turns"] == 1
    assert measured["response_max_ms"] == timings[3].measured_ms
    assert measured["longest_silence_ms"] == pytest.approx(800, abs=40)  # 5200 -> 6000
    assert measured["talk_over_ms"] == 0


def test_pii_without_any_timing_withholds_the_rendition(upload, api, make_session, tenant):
    untimed = [{"seq": 0, "role": "caller", "text": "call me on 415 555 0132"}]
    session = make_session(tenant, transcript=untimed, function_calls=[])
    upload(session)
    recording = Recording.objects.get(session=session)
    assert recording.status == RecordingStatus.READY and recording.redacted_name == ""
    assert "Turns 0" in recording.error
    response = api.get(_url(session))
    assert response.status_code == 409


def test_a_turn_without_words_is_bleeped_whole(upload, client_for, make_session, tenant):
    turns = [{**TURNS[0], "words": None}, *TURNS[1:]]
    session = make_session(tenant, transcript=turns, function_calls=[])
    upload(session)
    samples, _ = _served(client_for(tenant, READ), session)
    assert rms(samples[_ms(500) : _ms(2000), 0]) == pytest.approx(TONE_RMS, rel=0.01)
    assert np.array_equal(samples[_ms(2000) :], sample_call()[_ms(2000) :])


def test_a_tenant_that_redacts_on_ingest_keeps_no_raw_audio(upload, client_for, make_session, tenant):
    tenant.redact_on_ingest = True
    tenant.save()
    session = make_session(tenant, transcript=TURNS, function_calls=[])
    upload(session)
    recording = Recording.objects.get(session=session)
    assert recording.raw_name == "" and len(_stored_files()) == 1
    # The placeholders of the stored words still place the bleep.
    samples, _ = _served(client_for(tenant, READ), session)
    assert rms(samples[_ms(PII_MS[0]) : _ms(PII_MS[1]), 0]) == pytest.approx(TONE_RMS, rel=0.01)
    assert client_for(tenant, RAW).get(_url(session) + "?raw=true").status_code == 404


def test_soft_purge_deletes_both_files_and_keeps_the_duration(upload, api, make_session, tenant):
    session = make_session(
        tenant, transcript=TURNS, function_calls=[], started_at=timezone.now() - dt.timedelta(days=40)
    )
    upload(session)
    assert len(_stored_files()) == 2
    tenant.retention_days = 30
    tenant.save()
    result = tenant_purge_expired(tenant=tenant)
    assert result.recordings == 1
    assert _stored_files() == []
    recording = Recording.objects.get(session=session)
    assert recording.status == RecordingStatus.PURGED and recording.duration_ms == 7500
    response = api.get(_url(session))
    assert response.status_code == 410


def test_hard_purge_deletes_the_files_with_the_session(upload, make_session, tenant):
    session = make_session(
        tenant, transcript=TURNS, function_calls=[], started_at=timezone.now() - dt.timedelta(days=40)
    )
    upload(session)
    tenant.retention_days = 30
    tenant.save()
    tenant_purge_expired(tenant=tenant, hard=True)
    assert _stored_files() == [] and not Recording.objects.exists()


def test_a_stale_job_changes_nothing(upload, call_session):
    upload(call_session)
    recording = Recording.objects.get()
    assert recording_process(recording.pk, recording.generation - 1) is None
    assert recording_process(recording.pk, recording.generation + 5) is None
    assert Recording.objects.get().status == RecordingStatus.READY


def test_mono_and_swapped_channels(upload, api, make_session, tenant):
    mono = make_session(tenant, transcript=TURNS, function_calls=[])
    assert upload(mono, body=wav_bytes(sample_call()[:, :1])).status_code == 201
    recording = Recording.objects.get(session=mono)
    assert recording.channel_roles == "mixed" and recording.response_p50_ms is None
    swapped = make_session(tenant, transcript=TURNS, function_calls=[])
    body = wav_bytes(sample_call()[:, ::-1])
    assert upload(swapped, body=body, query="?channels=agent,caller").status_code == 201
    timings = {t.turn_seq: t.measured_ms for t in RecordingTurnTiming.objects.filter(session=swapped)}
    assert timings[1] == pytest.approx(700, abs=40)


def test_compressed_media_is_decoded(upload, api, call_session, tmp_path):
    av = pytest.importorskip("av")
    path = tmp_path / "call.ogg"
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=RATE, layout="stereo")
        samples = sample_call()
        for start in range(0, len(samples), 160):
            block = np.ascontiguousarray(samples[start : start + 160]).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout="stereo")
            frame.sample_rate = RATE
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    response = upload(call_session, body=path.read_bytes(), content_type="audio/ogg")
    assert response.status_code == 201, response.content
    recording = Recording.objects.get()
    assert recording.status == RecordingStatus.READY, recording.error
    assert recording.content_type == "audio/ogg"
    assert abs(recording.duration_ms - 7500) < 100
    response = api.get(_url(call_session))
    served, rate = wav_samples(b"".join(response.streaming_content))
    assert rate == recording.sample_rate  # Opus decodes at 48 kHz whatever went in
    start, end = PII_MS[0] * rate // 1000, PII_MS[1] * rate // 1000
    assert rms(served[start:end, 0]) == pytest.approx(TONE_RMS, rel=0.02)


def test_word_timings_round_trip_and_are_redacted_for_readers(api, client_for, tenant, call_session):
    raw = client_for(tenant, RAW).get(f"/api/v1/voice-sessions/{call_session.pk}").json()
    assert raw["transcript"][0]["words"] == TURNS[0]["words"]
    redacted = client_for(tenant, READ).get(f"/api/v1/voice-sessions/{call_session.pk}").json()
    words = redacted["transcript"][0]["words"]
    assert [w["text"] for w in words] == ["my", "number", "is", "[PHONE]"]
    assert words[-1] == {"text": "[PHONE]", "start_ms": 1200, "end_ms": 2000}
    assert redacted["transcript"][1]["words"] is None


def test_bad_word_timings_are_refused_naming_the_word(api, tenant):
    from tests.factories import as_json, session_payload

    payload = as_json(
        session_payload(
            transcript=[{"seq": 0, "role": "caller", "text": "hi", "words": [{"text": "hi", "start_ms": 5}]}]
        )
    )
    response = api.post("/api/v1/voice-sessions", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "transcript[0].words[0].end_ms"


def test_storage_holds_no_public_url(upload, call_session):
    upload(call_session)
    storage = recording_storage()
    recording = Recording.objects.get()
    with pytest.raises(ValueError):
        storage.url(recording.redacted_name)
    with storage.open(recording.redacted_name) as file, wave.open(file) as reader:
        assert reader.getnchannels() == 2


def test_latency_over_ms_lists_the_calls_with_a_slower_measured_response(upload, api, make_session, tenant):
    slow = make_session(tenant, transcript=TURNS, function_calls=[])
    upload(slow)
    make_session(tenant, transcript=TURNS, function_calls=[])  # no recording: never listed
    measured = Recording.objects.get(session=slow).response_max_ms

    def ids(params):
        return [s["id"] for s in api.get("/api/v1/voice-sessions", params).json()["data"]]

    assert ids({"latency_over_ms": measured - 1}) == [str(slow.pk)]
    assert ids({"latency_over_ms": measured}) == []
    for bad in ("-1", "fast", "1.5"):
        response = api.get("/api/v1/voice-sessions", {"latency_over_ms": bad})
        assert response.status_code == 400 and response.json()["error"]["param"] == "latency_over_ms"


def test_measured_latency_per_agent_and_version(upload, make_session, tenant, browser_for):
    from qa_app.analytics import measured_latency
    from sessions_app.models import VoiceSession

    upload(make_session(tenant, transcript=TURNS, function_calls=[]))
    upload(make_session(tenant, transcript=TURNS, function_calls=[], agent_key="support-agent"))
    figures = {item.agent_key: item for item in measured_latency(VoiceSession.objects.filter(tenant=tenant))}
    billing = figures["billing-agent"]
    low, high = sorted(
        RecordingTurnTiming.objects.filter(session__agent_key="billing-agent").values_list(
            "measured_ms", flat=True
        )
    )
    assert billing.turns == 2 and billing.flagged == 1 and billing.sessions == 1
    assert billing.p50_ms == pytest.approx(low + (high - low) * 0.5)
    assert billing.p95_ms == pytest.approx(low + (high - low) * 0.95)
    assert billing.prompt_version == "v12"
    page = browser_for(tenant, "analyst").get("/review/dashboard/?started_after=2026-10-01").content.decode()
    assert "Response latency, heard in the recordings" in page
    assert 'data-agent="support-agent"' in page and "latency_over_ms=" in page


def test_new_word_timings_render_the_recording_again(
    upload, api, make_session, tenant, django_capture_on_commit_callbacks
):
    from tests.factories import as_json, session_payload

    untimed = [{**TURNS[0], "words": None}, *TURNS[1:]]
    session = make_session(tenant, transcript=untimed, function_calls=[])
    upload(session)
    assert Recording.objects.get(session=session).bleeped_spans == [[500, 2000]]  # the whole turn
    payload = as_json(session_payload(stream_id=session.stream_id, transcript=[TURNS[0]], function_calls=[]))
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/voice-sessions", payload, format="json").status_code == 200
    recording = Recording.objects.get(session=session)
    assert recording.generation == 2 and recording.status == RecordingStatus.READY
    assert recording.bleeped_spans == [[1120, 2080]]  # now only the number


def test_the_session_page_shows_the_recording_its_timings_and_silences(
    upload, call_session, tenant, browser_for, settings
):
    settings.RECORDING_LONG_SILENCE_MS = 700  # the test call's longest is 800 ms, 5.2 s -> 6.0 s
    upload(call_session)
    viewer = browser_for(tenant, "viewer")
    response = viewer.get(f"/review/sessions/{call_session.pk}/")
    page = response.content.decode()
    assert 'data-testid="recording-status">ready<' in page
    assert f'data-src="/review/sessions/{call_session.pk}/recording/"' in page
    assert "/recording/raw/" not in page  # no raw link without the reveal
    assert 'data-testid="silence"' in page and "Silence 800 ms at 0:05.2" in page
    assert page.count('data-testid="latency-flag"') == 1
    # The waveform's shadow DOM <style> is allowed by this response's nonce, nothing else is.
    nonce = page.split('data-csp-nonce="', 1)[1].split('"', 1)[0]
    assert f"style-src 'self' 'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert "script-src 'self';" in response["Content-Security-Policy"]
    audio = viewer.get(f"/review/sessions/{call_session.pk}/recording/", HTTP_RANGE="bytes=0-43")
    assert audio.status_code == 206 and b"".join(audio.streaming_content)[:4] == b"RIFF"
    assert "private" in audio["Cache-Control"]  # the review pages keep nothing in shared caches
    assert viewer.get(f"/review/sessions/{call_session.pk}/recording/raw/").status_code == 403
    assert viewer.get(f"/review/sessions/{call_session.pk}/recording/status/").json()["status"] == "ready"


def test_a_pending_recording_shows_its_processing_state(api, call_session, tenant, browser_for):
    api.put(_url(call_session), data=wav_bytes(sample_call()), content_type="audio/wav")  # job not run
    page = browser_for(tenant, "viewer").get(f"/review/sessions/{call_session.pk}/").content.decode()
    assert "Processing the recording" in page and "data-recording-wait" in page


def test_the_review_pages_keep_other_tenants_recordings_out(upload, call_session, other_tenant, browser_for):
    upload(call_session)
    stranger = browser_for(other_tenant, "admin")
    for path in ("", "raw/", "status/"):
        assert stranger.get(f"/review/sessions/{call_session.pk}/recording/{path}").status_code == 404
