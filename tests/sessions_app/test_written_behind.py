"""``writes.written_behind``: on PostgreSQL, outside a transaction, each write commits on a second
connection while the next item is prepared; in a transaction, or on SQLite, the writes run in
line. Either way they run in order, every one of them, and an error stops the run where it
happened without losing what committed before it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from sessions_app.db import writes
from sessions_app.models import Tenant

OVERLAPPED = connection.vendor == "postgresql"


class Recorder:
    """Items prepared and written, with the thread each write ran on, and whether item n + 1
    was being prepared while item n's write was still running."""

    def __init__(self, count: int, fail_at: int | None = None):
        self.count = count
        self.fail_at = fail_at
        self.prepared: list[int] = []
        self.written: list[int] = []
        self.threads: set[int] = set()
        self.overlapped: list[bool] = []
        self.started = [threading.Event() for _ in range(count + 1)]

    def items(self):
        for n in range(self.count):
            self.prepared.append(n)
            self.started[n].set()
            yield n

    def write(self, n: int) -> str:
        self.threads.add(threading.get_ident())
        if OVERLAPPED and not connection.in_atomic_block:
            # Held open until the next item's preparation has begun (never forever: a writer that
            # isn't overlapped would wait here for the timeout and be seen not to).
            self.overlapped.append(self.started[n + 1].wait(timeout=5) if n + 1 < self.count else True)
        if n == self.fail_at:
            raise RuntimeError(f"write {n} failed")
        Tenant.objects.create(slug=f"behind-{n}", name=f"Behind {n}")
        self.written.append(n)
        return f"wrote {n}"


@pytest.mark.django_db(transaction=True)
def test_every_write_runs_in_order_and_overlaps_the_next_preparation_on_postgresql():
    recorder = Recorder(4)
    assert list(writes.written_behind(recorder.items(), recorder.write)) == [f"wrote {n}" for n in range(4)]
    assert recorder.written == [0, 1, 2, 3]
    assert list(
        Tenant.objects.filter(slug__startswith="behind-").order_by("slug").values_list("slug", flat=True)
    ) == [f"behind-{n}" for n in range(4)]
    if OVERLAPPED:
        assert recorder.threads and threading.get_ident() not in recorder.threads
        assert recorder.overlapped == [True, True, True, True]
    else:
        assert recorder.threads == {threading.get_ident()}


@pytest.mark.django_db(transaction=True)
def test_a_failed_write_stops_the_run_and_keeps_what_committed_before_it():
    recorder = Recorder(5, fail_at=2)
    seen = []
    with pytest.raises(RuntimeError, match="write 2 failed"):
        for result in writes.written_behind(recorder.items(), recorder.write):
            seen.append(result)
    assert seen == ["wrote 0", "wrote 1"]
    assert recorder.written == [0, 1]
    # Overlapped, item 3 was being prepared when write 2 failed; nothing after it was.
    assert recorder.prepared == ([0, 1, 2, 3] if OVERLAPPED else [0, 1, 2])
    assert set(Tenant.objects.filter(slug__startswith="behind-").values_list("slug", flat=True)) == {
        "behind-0",
        "behind-1",
    }


@pytest.mark.django_db(transaction=True)
def test_an_error_preparing_the_next_item_lets_the_write_in_flight_finish():
    recorder = Recorder(5)

    def items():
        for n in recorder.items():
            if n == 2:
                raise ValueError("item 2 is bad")
            yield n

    with pytest.raises(ValueError, match="item 2 is bad"):
        list(writes.written_behind(items(), recorder.write))
    # Overlapped, write 1 was in flight when item 2 failed: it finished whole, and nothing after.
    assert recorder.written == [0, 1]
    assert Tenant.objects.filter(slug__startswith="behind-").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_caller_that_stops_reading_stops_the_writes():
    recorder = Recorder(5)
    run = writes.written_behind(recorder.items(), recorder.write)
    assert next(run) == "wrote 0"
    run.close()
    assert recorder.written == [0]
    assert Tenant.objects.filter(slug__startswith="behind-").count() == 1


@pytest.mark.django_db
def test_inside_a_transaction_the_writes_run_in_line():
    recorder = Recorder(3)
    with transaction.atomic():
        assert list(writes.written_behind(recorder.items(), recorder.write)) == [
            "wrote 0",
            "wrote 1",
            "wrote 2",
        ]
    assert recorder.threads == {threading.get_ident()}
    assert Tenant.objects.filter(slug__startswith="behind-").count() == 3
