"""Run the automatic evaluators over past sessions (new sessions are judged as they are written)."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from qa_app.evaluators import FINISHED, current_versions, sessions_evaluate_stream
from sessions_app.models import Tenant, VoiceSession


def _moment(value: str, option: str) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"{option} takes a date (2026-11-01) or an ISO 8601 time, not {value!r}.")
        parsed = dt.datetime.combine(day, dt.time.min)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = (
        "Judge a tenant's finished sessions started since DATE with its automatic evaluators in force "
        "(or one of them), replacing what the same evaluator versions said before. Prints how many "
        "sessions and results, and the rate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--since", required=True, help="Sessions started at or after (date or ISO time).")
        parser.add_argument("--until", help="Sessions started before (date or ISO time).")
        parser.add_argument("--evaluator", help="Only this evaluator (by name).")
        parser.add_argument("--batch-size", type=int, default=1000, help="Sessions per batch (1000).")

    @staticmethod
    def _batches(sessions, size: int):
        """The sessions' ids, ``size`` at a time, in start order (keyset pages: no OFFSET)."""
        last = None
        while True:
            batch = sessions.order_by("started_at", "id")
            if last is not None:
                batch = batch.filter(started_at__gte=last[0]).exclude(started_at=last[0], id__lte=last[1])
            rows = list(batch.values_list("id", "started_at")[:size])
            if not rows:
                return
            yield [pk for pk, _ in rows]
            last = (rows[-1][1], rows[-1][0])

    def handle(self, *args, tenant, since, until, evaluator, batch_size, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        if batch_size < 1:
            raise CommandError("--batch-size is at least 1.")
        versions = current_versions(found.pk)
        if evaluator:
            versions = [v for v in versions if v.evaluator.name == evaluator]
            if not versions:
                raise CommandError(f"No active evaluator named {evaluator!r} in {found.slug}.")
        if not versions:
            raise CommandError(f"{found.slug} has no active evaluator.")
        sessions = VoiceSession.objects.filter(
            tenant=found,
            status__in=FINISHED,
            started_at__gte=_moment(since, "--since"),
            agent_key__in={v.evaluator.agent_key for v in versions},
        )
        if until:
            sessions = sessions.filter(started_at__lt=_moment(until, "--until"))
        began = time.perf_counter()
        judged = results = 0
        for count, written in sessions_evaluate_stream(
            tenant_id=found.pk, batches=self._batches(sessions, batch_size), versions=versions
        ):
            judged += count
            results += written
            self.stderr.write(f"  {judged} sessions")
        seconds = time.perf_counter() - began
        rate = judged / seconds if seconds else 0
        names = ", ".join(sorted(f"{v.evaluator.name} v{v.version}" for v in versions))
        self.stdout.write(
            f"{found.slug}: judged {judged} session(s), {results} result(s) with {names} "
            f"in {seconds:.1f} s ({rate:,.0f} sessions/s)."
        )
