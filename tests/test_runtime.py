"""config.runtime: the garbage-collector tuning of gunicorn workers and the bulk import."""

import gc

from config.runtime import garbage_collection_tuned


def test_tuning_freezes_and_raises_the_threshold_for_a_block_then_restores_both(monkeypatch):
    monkeypatch.setenv("GC_GEN0_THRESHOLD", "4321")
    before = gc.get_threshold()
    with garbage_collection_tuned():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (4321, before[1], before[2])
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_a_zero_threshold_keeps_pythons(monkeypatch):
    monkeypatch.setenv("GC_GEN0_THRESHOLD", "0")
    before = gc.get_threshold()
    with garbage_collection_tuned():
        assert gc.get_threshold() == before
    assert gc.get_threshold() == before
