"""The recording player in Chromium: it plays the redacted rendition, a click on a turn seeks to it
and highlights it, speed and keys work, the raw original plays only after the audited Reveal, and
the page runs clean under the CSP at desktop and phone widths."""

from __future__ import annotations

import time

import pytest

from sessions_app.models import AuditEvent
from sessions_app.roles import ADMIN, VIEWER
from sessions_app.services.recordings import recording_process, recording_store
from tests.audio.calls import TURNS, sample_call, wav_bytes

pytestmark = pytest.mark.browser


@pytest.fixture
def recorded(tenant, make_session):
    import io

    session = make_session(tenant, transcript=TURNS, function_calls=[])
    stored = recording_store(
        session=session, file=io.BytesIO(wav_bytes(sample_call())), content_type="audio/wav"
    )
    recording_process(stored.recording.pk, stored.recording.generation)
    return session


def _until(page, expression: str, timeout: float = 6.0) -> None:
    """Poll ``expression`` in the page (wait_for_function evaluates strings, which the CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"never true: {expression}")
        page.wait_for_timeout(50)


def _current_time(page) -> float:
    return page.evaluate("window.sessionPlayer.audio.currentTime")


def test_the_player_seeks_to_a_clicked_turn_and_keeps_to_the_keys(
    live_server, page, login, browser_log, tenant, make_user, recorded, screenshot
):
    make_user("vera", tenant, VIEWER)
    login(page, "vera")
    page.goto(f"{live_server.url}/review/sessions/{recorded.pk}/")
    page.wait_for_selector("[data-player][data-ready=true]")
    src = page.evaluate("window.sessionPlayer.audio.src")
    assert src.endswith(f"/review/sessions/{recorded.pk}/recording/") and "/raw/" not in src
    assert "1 span of PII bleeped" in page.get_by_test_id("recording").inner_text()

    turn = page.locator("[data-testid=turn][data-seq='2']")  # the caller's second turn, at 4.5 s
    turn.locator(".turn-text").click()
    _until(page, "window.sessionPlayer.audio.currentTime > 4.5 && !window.sessionPlayer.audio.paused")
    assert 4.5 <= _current_time(page) < 6.5
    page.wait_for_selector("[data-testid=turn][data-seq='2'].is-current")

    page.locator("[data-rate='2']").click()
    assert page.evaluate("window.sessionPlayer.audio.playbackRate") == 2
    page.locator("body").press(" ")  # pause
    _until(page, "window.sessionPlayer.audio.paused")
    before = _current_time(page)
    page.locator("body").press("ArrowLeft")
    assert _current_time(page) == pytest.approx(max(0, before - 5), abs=0.05)
    page.locator("body").press("ArrowRight")
    assert _current_time(page) == pytest.approx(max(0, before - 5) + 5, abs=0.05)

    # The measured latency sits beside the pipeline's, and the misreported turn is flagged.
    flagged = page.locator("[data-testid=turn][data-seq='3'] [data-testid=latency-flag]")
    assert flagged.is_visible()
    assert "heard 800 ms" in page.locator("[data-testid=turn][data-seq='3']").inner_text()

    page.locator("[data-testid=turn][data-seq='1'] [data-seek]").click()  # the offset button
    _until(page, "window.sessionPlayer.audio.currentTime >= 2.7")
    page.locator("body").press("p")  # plays the current turn and stops at its end (4.0 s)
    _until(page, "window.sessionPlayer.audio.paused", 8)
    assert 3.9 <= _current_time(page) < 4.6

    log = browser_log(page)
    assert not log.csp_problems() and not log.page_errors, (log.csp_problems(), log.page_errors)
    screenshot(page, "recording-player")


def test_raw_audio_plays_only_after_the_audited_reveal(
    live_server, new_page, login, browser_log, tenant, make_user, recorded, screenshot
):
    make_user("ada", tenant, ADMIN)
    page = login(new_page("desktop"), "ada")
    page.goto(f"{live_server.url}/review/sessions/{recorded.pk}/")
    page.wait_for_selector("[data-player][data-ready=true]")
    # Without the reveal's token, the raw audio is refused even to an admin.
    refused = page.request.get(f"{live_server.url}/review/sessions/{recorded.pk}/recording/raw/")
    assert refused.status == 403
    page.get_by_test_id("reveal").click()
    page.wait_for_selector("[data-testid=raw-banner]")
    page.wait_for_selector("[data-player][data-ready=true]")
    assert "/recording/raw/?t=" in page.evaluate("window.sessionPlayer.audio.src")
    page.get_by_role("button", name="Play").click()
    _until(page, "window.sessionPlayer.audio.currentTime > 0.3")
    events = AuditEvent.objects.filter(action="session.raw_revealed", target_id=str(recorded.pk))
    whats = sorted(event.details.get("what", "session") for event in events)
    assert whats[0] == "recording" and "session" in whats
    log = browser_log(page)
    assert not log.csp_problems() and not log.page_errors


def test_the_player_on_a_phone(
    live_server, phone_page, login, browser_log, tenant, make_user, recorded, screenshot
):
    make_user("vera", tenant, VIEWER)
    login(phone_page, "vera")
    phone_page.goto(f"{live_server.url}/review/sessions/{recorded.pk}/")
    phone_page.wait_for_selector("[data-player][data-ready=true]")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    phone_page.locator("[data-testid=turn][data-seq='2'] .turn-text").tap()
    _until(phone_page, "window.sessionPlayer.audio.currentTime > 4.5")
    log = browser_log(phone_page)
    assert not log.csp_problems() and not log.page_errors
    screenshot(phone_page, "recording-player")
