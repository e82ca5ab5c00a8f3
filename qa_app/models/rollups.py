"""Daily rollups of the dashboard's figures.

Daily aggregates per tenant, UTC day of ``started_at``, agent, prompt version and model: a year's
dashboard sums a few thousand rows instead of grouping every session and tool call. They are
derived data, rebuilt a day at a time from the sessions (qa_app.rollups): a write marks its days
changed (sessions_app.changes), and the next read recomputes those days first.
"""

from django.db import models

from sessions_app.models import Tenant


class DayRollup(models.Model):
    """The key every rollup row starts with: the sessions of one tenant, day, agent, prompt and model."""

    # No single-column tenant index: every rollup's indexes lead with the tenant.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    agent_key = models.CharField(max_length=100)
    prompt_version = models.CharField(max_length=64, blank=True)
    model_name = models.CharField(max_length=128, blank=True)

    class Meta:
        abstract = True


class SessionDayStats(DayRollup):
    """Sessions by status, QA state, latest verdict and escalation."""

    status = models.CharField(max_length=16)
    qa_state = models.CharField(max_length=16)
    verdict = models.CharField(max_length=16, blank=True)
    escalated = models.BooleanField()
    sessions = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"], name="session_day_stats_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.agent_key} {self.status}: {self.sessions}"


class FailureDayStats(DayRollup):
    """Sessions whose latest evaluation names a failure category, and the failing ones among them."""

    category = models.CharField(max_length=64)
    sessions = models.PositiveIntegerField()
    fail = models.PositiveIntegerField()
    needs_work = models.PositiveIntegerField()
    first_failing = models.DateTimeField(null=True)  # earliest started_at of the failing sessions
    last_failing = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"], name="failure_day_stats_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.agent_key} {self.category}: {self.sessions}"


class ToolDayStats(DayRollup):
    """Tool calls by function name: calls, failures, the sessions that made them, latency samples."""

    name = models.CharField(max_length=128)
    calls = models.PositiveIntegerField()
    failed_calls = models.PositiveIntegerField()
    sessions = models.PositiveIntegerField()  # a session has one day, so days add up exactly
    failed_sessions = models.PositiveIntegerField()
    latency_samples = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"], name="tool_day_stats_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.agent_key} {self.name}: {self.calls}"


class ToolLatencySample(DayRollup):
    """One tool call's latency, keyed like the rollups: exact percentiles without joining sessions.

    Latencies don't compress by day (a day of one agent holds a handful of calls per tool, nearly
    all with different latencies), so this is one narrow row per call; the index serves
    ``percentile_cont`` in (name, latency) order.
    """

    name = models.CharField(max_length=128)
    latency_ms = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "name", "latency_ms"],
                include=["day", "agent_key", "prompt_version", "model_name"],
                name="tool_latency_sample_order",
            ),
            models.Index(fields=["tenant", "day"], name="tool_latency_sample_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.name}: {self.latency_ms} ms"
