"""QA figures for the dashboard and the prompt comparison: aggregate SQL over a session queryset.

Every function takes a ``VoiceSession`` queryset that is already tenant-scoped and filtered (the
pages build it from ``access.sessions()`` and the API's ``VoiceSessionFilterSet``, so a figure and
the session list behind its link select the same rows). Each function runs a fixed number of
queries (GROUP BY with conditional counts, window functions for examples and percentiles),
however many sessions there are; Python only shapes the handful of aggregate rows that come back.

Definitions, so a number on the page can be checked by hand:

- reviewed: ``qa_state = reviewed``; passed: reviewed with the latest verdict ``pass``.
- failure categories: the latest evaluation's categories (``SessionFailure``), counted in sessions;
  their share is of the reviewed sessions.
- weekly trend: by the ISO week (Monday 00:00 UTC) of the session's ``started_at``, the same
  column the date range filters on, so a week's bar links to a ``started_after``/``started_before``
  window of exactly that week.
- tool-call failure rate: failed calls / calls of that function name; latency percentiles over the
  calls with a recorded ``latency_ms``.
- recurring failures: sessions whose latest verdict is ``fail`` or ``needs_work``, grouped by
  failure category, and by the name of their failed tool calls; first and last seen are the
  earliest and latest ``started_at`` of those sessions.

Percentiles are continuous: the value at 0-based position ``p·(n-1)`` of the sorted latencies,
interpolated linearly between the two nearest ranks (PostgreSQL's ``percentile_cont``, numpy's
default "linear" method). PostgreSQL computes it in the aggregate; other databases (SQLite in
development) use the fallback in ``_percentiles_by_rank``: the same definition, with the two
ranks around each position picked in SQL by window functions.

The package: ``sources`` (rows from the sessions or from the rollups), one module per kind of
figure (``overview``, ``failures``, ``tools``) and ``dashboard`` (all of them, and the version
comparison). The names below are its public interface.
"""

from qa_app.analytics.dashboard import (
    Dashboard,
    Row,
    Side,
    compare,
    dashboard,
    empty_side,
    recent_values,
    side,
)
from qa_app.analytics.evaluators import EvaluatorResults, evaluator_results
from qa_app.analytics.failures import (
    EXAMPLES,
    BoundaryFindings,
    CategoryCount,
    Example,
    FailureTrend,
    Recurring,
    boundary_findings,
    failure_categories,
    failure_trend,
    recurring_failures,
)
from qa_app.analytics.latency import MeasuredLatency, measured_latency
from qa_app.analytics.overview import Overview, overview
from qa_app.analytics.sources import PERCENTILES, Live, Rollup, source_of, week_start
from qa_app.analytics.tools import ToolStats, tool_stats

__all__ = [
    "EXAMPLES",
    "PERCENTILES",
    "BoundaryFindings",
    "CategoryCount",
    "Dashboard",
    "EvaluatorResults",
    "Example",
    "FailureTrend",
    "Live",
    "MeasuredLatency",
    "Overview",
    "Recurring",
    "Rollup",
    "Row",
    "Side",
    "ToolStats",
    "boundary_findings",
    "compare",
    "dashboard",
    "empty_side",
    "evaluator_results",
    "failure_categories",
    "failure_trend",
    "measured_latency",
    "overview",
    "recent_values",
    "recurring_failures",
    "side",
    "source_of",
    "tool_stats",
    "week_start",
]
