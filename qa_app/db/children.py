"""The judgment's child rows of a session document: its tags and its evaluations.

Written for ``sessions_app.db.reads.fetch_all``, beside the record's turns and function calls, so
a document of any number of sessions still takes one query per table in one round trip.
"""

from __future__ import annotations

import functools

from qa_app.models import AutomaticEvaluation, Evaluation, Evaluator, EvaluatorVersion, SessionTag, Tag
from sessions_app.db.reads import child_select, session_id_text

EVALUATION_COLUMNS = ("id", "verdict", "score", "failure_categories", "notes", "reviewer_label", "created_at")


@functools.cache
def tags_statement(vendor: str) -> str:
    # Each name by its key: cheaper for PostgreSQL than a hash join with the tag table. Sorted
    # in Python (code point order, as SQLite's), a handful per session.
    return (
        f"SELECT {session_id_text(vendor, 'link')},"
        f" (SELECT tag.name FROM {Tag._meta.db_table} tag WHERE tag.id = link.tag_id)"
        f" FROM {SessionTag._meta.db_table} link WHERE link.tenant_id = %s AND link.session_id {{ids}}"
    )


@functools.cache
def evaluations_statement(vendor: str) -> str:
    return child_select(
        Evaluation._meta.db_table, EVALUATION_COLUMNS, vendor, order_by="created_at DESC, id DESC"
    )


@functools.cache
def automatic_evaluations_statement(vendor: str) -> str:
    """Each result with its evaluator's name and version, by evaluator name, newest version first."""
    return (
        f"SELECT {session_id_text(vendor, 'a')}, e.name, v.version, v.kind, a.result, a.score, a.summary,"
        f" a.evidence, a.created_at FROM {AutomaticEvaluation._meta.db_table} a"
        f" JOIN {EvaluatorVersion._meta.db_table} v ON v.id = a.evaluator_version_id"
        f" JOIN {Evaluator._meta.db_table} e ON e.id = a.evaluator_id"
        f" WHERE a.tenant_id = %s AND a.session_id {{ids}} ORDER BY e.name, v.version DESC"
    )
