"""Repair call times stored before they were bounded (sessions_app/input_bounds.py).

A session's ``started_at`` of 9999-12-31, or a callback ``Timestamp`` of 9999-12-31T23:59:59-12:00
(which PostgreSQL keeps as year 10000, a value Python can't load), broke every read of its
tenant. Each such time is replaced by the time the server received the row, the one time known
to be real, entirely in SQL (the bad values are never loaded). The rollup rows of impossible days
go, and the days the sessions move to are marked stale so the next dashboard read counts them.
"""

import datetime

from django.db import migrations
from django.db.models import F, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

EARLIEST = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
SLACK = datetime.timedelta(days=1)
ROLLUPS = ("SessionDayStats", "FailureDayStats", "ToolDayStats", "ToolLatencySample", "StaleRollupDay")


def _outside(field: str, received: str) -> Q:
    return Q(**{f"{field}__lt": EARLIEST}) | Q(**{f"{field}__gt": F(received) + SLACK})


def repair_call_times(apps, schema_editor):
    alias = schema_editor.connection.alias if schema_editor is not None else "default"
    VoiceSession = apps.get_model("sessions_app", "VoiceSession")
    CallLog = apps.get_model("sessions_app", "CallLog")
    CallEvent = apps.get_model("sessions_app", "CallEvent")
    StaleRollupDay = apps.get_model("qa_app", "StaleRollupDay")

    sessions = VoiceSession.objects.using(alias)
    moved = sessions.filter(_outside("started_at", "created_at"))
    days = set(
        moved.annotate(day=TruncDate("created_at", tzinfo=datetime.UTC))
        .values_list("tenant_id", "day")
        .distinct()
        .order_by()
    )
    moved.update(started_at=F("created_at"))
    sessions.filter(
        _outside("ended_at", "updated_at") | Q(ended_at__lt=F("started_at")), ended_at__isnull=False
    ).update(ended_at=None)

    events = CallEvent.objects.using(alias)
    events.filter(_outside("occurred_at", "received_at")).update(occurred_at=F("received_at"))
    of_call = events.filter(call_log_id=OuterRef("pk")).values("call_log_id")
    calls = CallLog.objects.using(alias)
    calls.filter(_outside("started_at", "created_at")).update(
        started_at=Coalesce(
            Subquery(of_call.annotate(first=Min("occurred_at")).values("first")), F("created_at")
        )
    )
    calls.filter(_outside("last_event_at", "updated_at")).update(
        last_event_at=Coalesce(
            Subquery(of_call.annotate(last=Max("occurred_at")).values("last")), F("updated_at")
        )
    )

    latest = (timezone.now() + SLACK).date()
    for name in ROLLUPS:
        rows = apps.get_model("qa_app", name).objects.using(alias)
        rows.filter(Q(day__lt=EARLIEST.date()) | Q(day__gt=latest)).delete()
    now = timezone.now()
    StaleRollupDay.objects.using(alias).bulk_create(
        [StaleRollupDay(tenant_id=tenant_id, day=day, marked_at=now) for tenant_id, day in sorted(days)],
        update_conflicts=True,
        unique_fields=["tenant", "day"],
        update_fields=["marked_at"],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("qa_app", "0007_dashboard_rollups"),
        ("sessions_app", "0012_covering_tool_index"),
    ]

    operations = [migrations.RunPython(repair_call_times, migrations.RunPython.noop, elidable=True)]
