"""Writes for tenants, API keys and voice sessions. Views and commands call these, nothing else."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, connection, connections, router, transaction
from django.db.models import Count, Q
from django.utils import timezone

from sessions_app import changes, keys, roles
from sessions_app.actors import SYSTEM, Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.calls import call_sids_for_streams
from sessions_app.errors import ServiceError
from sessions_app.models import (
    SEARCH_CONFIG,
    AdminKey,
    ApiKey,
    FunctionCall,
    FunctionCallStatus,
    Scope,
    SessionShare,
    SessionStatus,
    Tenant,
    TenantUserObjectPermission,
    TranscriptTurn,
    VoiceSession,
)
from sessions_app.redaction import redact_text, redact_value

# A digest compared against when the prefix is unknown, so a miss costs the same as a hit.
_DUMMY_DIGEST = keys.digest_key("vsk_000000000000_" + "0" * 49)


# --- tenants -------------------------------------------------------------------------------------


def tenant_create(
    *,
    slug: str,
    name: str = "",
    retention_days: int | None = None,
    redact_on_ingest: bool = False,
    twilio_auth_token: str = "",
    actor: Actor = SYSTEM,
) -> Tenant:
    """Create a tenant. Slugs are unique; a duplicate is a ServiceError naming ``slug``."""
    if Tenant.objects.filter(slug=slug).exists():
        raise ServiceError(f"A tenant with slug {slug!r} already exists.", param="slug", code="conflict")
    with transaction.atomic():
        tenant = Tenant.objects.create(
            slug=slug,
            name=name or slug.replace("-", " ").title(),
            retention_days=retention_days,
            redact_on_ingest=redact_on_ingest,
            twilio_auth_token=twilio_auth_token,
        )
        audit_record(
            actor=actor,
            tenant=tenant,
            action=AuditAction.TENANT_CREATED,
            target_type="tenant",
            target_id=slug,
        )
    return tenant


POLICY_FIELDS = ("retention_days", "redact_on_ingest")


@transaction.atomic
def tenant_policy_update(*, tenant: Tenant, actor: Actor = SYSTEM, **changes) -> list[str]:
    """Change a tenant's retention or redaction policy, auditing each change with before/after.

    Returns the names of the fields that changed.
    """
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ServiceError(f"Not a policy field: {sorted(unknown)[0]}.", param=sorted(unknown)[0])
    retention = changes.get("retention_days", tenant.retention_days)
    if retention is not None and retention < 1:
        raise ServiceError(
            "retention_days must be at least 1, or empty to keep data forever.", param="retention_days"
        )
    changed = [name for name, value in changes.items() if getattr(tenant, name) != value]
    if not changed:
        return []
    before = {name: getattr(tenant, name) for name in changed}
    for name in changed:
        setattr(tenant, name, changes[name])
    tenant.save(update_fields=changed)
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.REDACTION_POLICY_CHANGED
        if "redact_on_ingest" in changed
        else AuditAction.RETENTION_CHANGED,
        target_type="tenant",
        target_id=tenant.slug,
        details={"before": before, "after": {name: changes[name] for name in changed}},
    )
    return changed


# --- API keys ------------------------------------------------------------------------------------


def api_key_create(
    *,
    tenant: Tenant,
    name: str,
    scopes: Iterable[str],
    created_by=None,
    expires_at: dt.datetime | None = None,
    actor: Actor = SYSTEM,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plaintext, which is never available again."""
    scopes = list(dict.fromkeys(scopes))
    unknown = [scope for scope in scopes if scope not in Scope.values]
    if unknown:
        raise ServiceError(
            f"Unknown scope {unknown[0]!r}; allowed: {', '.join(Scope.values)}.", param="scopes"
        )
    if not scopes:
        raise ServiceError("A key needs at least one scope.", param="scopes")
    if expires_at is not None and expires_at <= timezone.now():
        raise ServiceError(
            "expires_at must be in the future; a key can't be created expired.", param="expires_at"
        )
    generated = keys.generate_key()
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            tenant=tenant,
            name=name,
            prefix=generated.prefix,
            digest=keys.digest_key(generated.raw),
            scopes=scopes,
            created_by=created_by,
            expires_at=expires_at,
        )
        audit_record(
            actor=actor,
            tenant=tenant,
            action=AuditAction.API_KEY_CREATED,
            target_type="api_key",
            target_id=api_key.prefix,
            details={"name": name, "scopes": scopes},
        )
    return api_key, generated.raw


def api_key_revoke(*, api_key: ApiKey, actor: Actor = SYSTEM) -> ApiKey:
    """Revoke a key. Revoking twice keeps the first revocation time."""
    if api_key.revoked_at is not None:
        return api_key
    with transaction.atomic():
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            tenant=api_key.tenant,
            action=AuditAction.API_KEY_REVOKED,
            target_type="api_key",
            target_id=api_key.prefix,
        )
    return api_key


_key_queries: dict[tuple, tuple[str, tuple, tuple]] = {}


def _key_query(model, related: tuple[str, ...], connection) -> tuple[str, tuple, tuple]:
    """The SQL of ``_key_row``, written once per key model and database vendor: (sql, tables,
    columns), tables as (model, alias, related name), columns as (alias, column) in SELECT order."""
    key = (model, related, connection.vendor)
    if key not in _key_queries:
        _key_queries[key] = _write_key_query(model, related, connection.ops.quote_name)
    return _key_queries[key]


def _write_key_query(model, related: tuple[str, ...], quote) -> tuple[str, tuple, tuple]:
    tables = [(model, "k", None)]
    joins = []
    for number, name in enumerate(related):
        field = model._meta.get_field(name)
        target, alias = field.related_model, f"r{number}"
        join = "LEFT JOIN" if field.null else "JOIN"
        joins.append(
            f" {join} {quote(target._meta.db_table)} {alias}"
            f" ON {alias}.{quote(target._meta.pk.column)} = k.{quote(field.column)}"
        )
        tables.append((target, alias, name))
    columns = [
        (alias, field.get_col(alias)) for table, alias, _ in tables for field in table._meta.concrete_fields
    ]
    sql = (
        f"SELECT {', '.join(f'{alias}.{quote(column.target.column)}' for alias, column in columns)}"
        f" FROM {quote(model._meta.db_table)} k{''.join(joins)}"
        f" WHERE k.{quote(model._meta.get_field('prefix').column)} = %s"
    )
    return sql, tuple(tables), tuple(columns)


def _key_row(model, prefix: str, *, related: tuple[str, ...] = ()):
    """The key row with this prefix, its ``related`` foreign keys loaded (one join each), or None.

    What ``select_related(*related).filter(prefix=prefix).first()`` returns, read with one
    hand-written query: every API request authenticates first, and the ORM spent 0.7 ms of CPU
    compiling that query, several times what the database spends answering it.
    """
    using = router.db_for_read(model)
    connection = connections[using]
    sql, tables, columns = _key_query(model, related, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix])
        found = cursor.fetchone()
    if found is None:
        return None
    values = []
    for (_, column), value in zip(columns, found, strict=True):
        for converter in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
            value = converter(value, column, connection)
        values.append(value)
    instances, start = [], 0
    for table, _, _ in tables:
        fields = table._meta.concrete_fields
        chunk = values[start : start + len(fields)]
        start += len(fields)
        instances.append(
            None if chunk[0] is None else table.from_db(using, [field.attname for field in fields], chunk)
        )
    row = instances[0]
    for (_, _, name), instance in zip(tables[1:], instances[1:], strict=True):
        setattr(row, name, instance)
    return row


def _key_authenticate(model, *, raw_key: str, key_type: str, related: tuple[str, ...] = ()):
    """Resolve a presented key of ``key_type`` to a usable row of ``model``, or None.

    Every failure looks the same to the caller, and an unknown prefix still costs a digest
    comparison, so responses never reveal whether a prefix exists. ``last_used_at`` is written at
    most once per API_KEY_LAST_USED_RESOLUTION_SECONDS, so reads stay reads.
    """
    parsed = keys.parse_key(raw_key, key_type)
    if parsed is None:
        return None
    row = _key_row(model, parsed.prefix, related=related)
    if not keys.digests_match(raw_key, row.digest if row else _DUMMY_DIGEST) or row is None:
        return None
    now = timezone.now()
    expires_at = getattr(row, "expires_at", None)
    if row.revoked_at is not None or (expires_at is not None and expires_at <= now):
        return None
    resolution = dt.timedelta(seconds=settings.API_KEY_LAST_USED_RESOLUTION_SECONDS)
    if row.last_used_at is None or now - row.last_used_at >= resolution:
        model.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """Resolve a tenant API key (``vsk_…``); see ``_key_authenticate``."""
    return _key_authenticate(ApiKey, raw_key=raw_key, key_type=keys.KEY_TYPE, related=("tenant",))


def admin_key_create(*, name: str, actor: Actor = SYSTEM) -> tuple[AdminKey, str]:
    """Create a platform admin key and return it with its plaintext, which is never available again."""
    generated = keys.generate_key(keys.ADMIN_KEY_TYPE)
    with transaction.atomic():
        admin_key = AdminKey.objects.create(
            name=name, prefix=generated.prefix, digest=keys.digest_key(generated.raw)
        )
        audit_record(
            actor=actor,
            tenant=None,
            action=AuditAction.ADMIN_KEY_CREATED,
            target_type="admin_key",
            target_id=admin_key.prefix,
            details={"name": name},
        )
    return admin_key, generated.raw


def admin_key_revoke(*, admin_key: AdminKey, actor: Actor = SYSTEM) -> AdminKey:
    """Revoke a platform admin key; revoking twice keeps the first time."""
    if admin_key.revoked_at is None:
        with transaction.atomic():
            admin_key.revoked_at = timezone.now()
            admin_key.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                tenant=None,
                action=AuditAction.ADMIN_KEY_REVOKED,
                target_type="admin_key",
                target_id=admin_key.prefix,
            )
    return admin_key


def admin_key_authenticate(*, raw_key: str) -> AdminKey | None:
    """Resolve a platform admin key (``vsa_…``); see ``_key_authenticate``."""
    return _key_authenticate(AdminKey, raw_key=raw_key, key_type=keys.ADMIN_KEY_TYPE)


# --- voice sessions ------------------------------------------------------------------------------

_TURN_FIELDS = ["role", "text", "text_redacted", "start_ms", "end_ms", "confidence", "interrupted"]
_CALL_FIELDS = [
    "turn_seq",
    "name",
    "arguments",
    "arguments_redacted",
    "result",
    "result_redacted",
    "status",
    "error",
    "error_redacted",
    "latency_ms",
]


@dataclass(frozen=True)
class UpsertResult:
    session: VoiceSession
    created: bool


def _session_field_values(data: Mapping[str, Any], *, redact_on_ingest: bool) -> dict[str, Any]:
    """Map the API's nested shape onto model fields, keeping only what the payload provided."""
    values: dict[str, Any] = {}
    for name in (
        "call_sid",
        "agent_key",
        "status",
        "direction",
        "from_number",
        "to_number",
        "started_at",
        "ended_at",
    ):
        if name in data:
            values[name] = data[name] if data[name] is not None or name == "ended_at" else ""
    for source, fields in (
        (
            "model",
            {
                "provider": "model_provider",
                "name": "model_name",
                "prompt_version": "prompt_version",
                "params": "model_params",
            },
        ),
        (
            "voice",
            {
                "provider": "tts_provider",
                "voice": "voice_name",
                "stt": "stt_provider",
                "language": "language",
            },
        ),
    ):
        for key, field in fields.items():
            if key in data.get(source, {}):
                value = data[source][key]
                values[field] = value if value is not None else ({} if field == "model_params" else "")
    escalation = data.get("escalation") or {}
    if "escalated" in escalation:
        values["escalated"] = bool(escalation["escalated"])
    if "reason" in escalation:
        values["escalation_reason"] = escalation["reason"]
        values["escalation_reason_redacted"] = redact_text(escalation["reason"])
    if "at_ms" in escalation:
        values["escalation_at_ms"] = escalation["at_ms"]
    if "summary" in data:
        values["summary"] = data["summary"] or ""
        values["summary_redacted"] = redact_text(values["summary"])
    if "metadata" in data:
        values["metadata"] = data["metadata"] or {}
        values["metadata_redacted"] = redact_value(values["metadata"])
    if redact_on_ingest:
        # The raw text never reaches the database: raw columns hold the redacted form.
        for raw, redacted in (
            ("summary", "summary_redacted"),
            ("escalation_reason", "escalation_reason_redacted"),
            ("metadata", "metadata_redacted"),
        ):
            if raw in values:
                values[raw] = values[redacted]
        for number in ("from_number", "to_number"):
            if values.get(number):
                values[number] = "[PHONE]"
    return values


def _turn_rows(session_id, tenant_id: int, turns: list[Mapping], *, redact_on_ingest: bool) -> list[dict]:
    """Column values of transcript turns, redacted once here (plain dicts: no model instances)."""
    rows = []
    for turn in turns:
        text = turn.get("text") or ""
        redacted = redact_text(text)
        rows.append(
            {
                "tenant_id": tenant_id,
                "session_id": session_id,
                "seq": turn["seq"],
                "role": turn["role"],
                "text": redacted if redact_on_ingest else text,
                "text_redacted": redacted,
                "start_ms": turn.get("start_ms"),
                "end_ms": turn.get("end_ms"),
                "confidence": turn.get("confidence"),
                "interrupted": bool(turn.get("interrupted", False)),
            }
        )
    return rows


def _call_rows(session_id, tenant_id: int, calls: list[Mapping], *, redact_on_ingest: bool) -> list[dict]:
    """Column values of function calls, with arguments, results and errors redacted once here."""
    rows = []
    for call in calls:
        arguments = call.get("arguments") if call.get("arguments") is not None else {}
        result = call.get("result")
        error = call.get("error")
        arguments_redacted = redact_value(arguments)
        result_redacted = redact_value(result)
        error_redacted = redact_text(error)
        rows.append(
            {
                "tenant_id": tenant_id,
                "session_id": session_id,
                "seq": call["seq"],
                "turn_seq": call.get("turn_seq"),
                "name": call["name"],
                "arguments": arguments_redacted if redact_on_ingest else arguments,
                "arguments_redacted": arguments_redacted,
                "result": result_redacted if redact_on_ingest else result,
                "result_redacted": result_redacted,
                "status": call.get("status") or FunctionCallStatus.SUCCEEDED,
                "error": error_redacted if redact_on_ingest else error,
                "error_redacted": error_redacted,
                "latency_ms": call.get("latency_ms"),
            }
        )
    return rows


def _search_vectors_refresh(session_ids: list) -> None:
    """Rebuild the full-text vectors of these sessions from their redacted summary and turns.

    PostgreSQL only. Redacted text is indexed so a search can never probe for PII the reader may
    not see.
    """
    if connection.vendor != "postgresql" or not session_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE sessions_app_voicesession AS s
            SET search_vector = to_tsvector(%s::regconfig, s.summary_redacted || ' ' || coalesce(
                (SELECT string_agg(t.text_redacted, ' ' ORDER BY t.seq)
                 FROM sessions_app_transcriptturn t WHERE t.session_id = s.id), ''))
            WHERE s.id = ANY(%s)
            """,
            [SEARCH_CONFIG, list(session_ids)],
        )


def _copy_rows(
    cursor, table: str, fields: list, rows: Iterable[Iterable], *, extra: tuple[str, ...] = ()
) -> None:
    """COPY rows (one value per field, then one per ``extra`` column) into ``table``: no SQL to
    build or parse per row. JSON fields are serialized here; None stays NULL."""
    quote = connection.ops.quote_name
    columns = ", ".join([*(quote(field.column) for field in fields), *extra])
    is_json = [field.get_internal_type() == "JSONField" for field in fields] + [False] * len(extra)
    with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [
                    orjson.dumps(value).decode() if json and value is not None else value
                    for value, json in zip(row, is_json, strict=True)
                ]
            )


def _insert_new_rows(model, rows: list[dict]) -> None:
    """Insert rows that cannot conflict: PostgreSQL COPY, else bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows])
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    with connection.cursor() as cursor:
        _copy_rows(
            cursor, model._meta.db_table, fields, ([row[field.attname] for field in fields] for row in rows)
        )


_SESSION_STAGING = "voice_session_insert_staging"


def _insert_new_sessions(sessions: list[VoiceSession], search_texts: dict, *, ignore_conflicts: bool) -> None:
    """Insert new sessions with their full-text vectors computed from ``search_texts``.

    PostgreSQL: COPY into a per-connection temporary table, then one INSERT ... SELECT that
    computes ``to_tsvector`` as it goes. A multi-row INSERT of 40 columns costs more to build
    and parse (Django compiles every value, psycopg scans every placeholder) than PostgreSQL
    spends storing the rows. Elsewhere: bulk_create (no search vector; see selectors).
    """
    if not sessions:
        return
    if connection.vendor != "postgresql":
        VoiceSession.objects.bulk_create(sessions, ignore_conflicts=ignore_conflicts)
        return
    quote = connection.ops.quote_name
    fields = [field for field in VoiceSession._meta.concrete_fields if field.attname != "search_vector"]
    columns = ", ".join(quote(field.column) for field in fields)
    table = quote(VoiceSession._meta.db_table)
    with connection.cursor() as cursor:
        # Created once per connection (the columns of the table, plus the text to index); emptied
        # at every commit, and here in case an earlier call in this transaction left rows.
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_SESSION_STAGING} ON COMMIT DELETE ROWS AS"
            f" SELECT {columns}, ''::text AS search_text FROM {table} WITH NO DATA;"
            f" TRUNCATE {_SESSION_STAGING}"
        )
        _copy_rows(
            cursor,
            _SESSION_STAGING,
            fields,
            (
                # pre_save fills auto_now(_add) fields, as bulk_create does.
                [*(field.pre_save(session, add=True) for field in fields), search_texts.get(session.pk, "")]
                for session in sessions
            ),
            extra=("search_text",),
        )
        cursor.execute(
            f"INSERT INTO {table} ({columns}, search_vector)"
            f" SELECT {columns}, to_tsvector(%s::regconfig, search_text) FROM {_SESSION_STAGING}"
            + (" ON CONFLICT DO NOTHING" if ignore_conflicts else ""),
            [SEARCH_CONFIG],
        )


def _payload_counts(data: Mapping[str, Any]) -> dict[str, int]:
    """The denormalized counts of a new session, from its own payload (seqs are unique per list)."""
    calls = data.get("function_calls") or []
    return {
        "turn_count": len(data.get("transcript") or []),
        "function_call_count": len(calls),
        "failed_function_call_count": sum(
            1 for call in calls if call.get("status") == FunctionCallStatus.FAILED
        ),
    }


@dataclass
class PreparedSession:
    """A validated payload with its redaction done: the CPU-heavy part of a write, which needs no
    database and so can run ahead of the writes (or in another process, for imports)."""

    data: Mapping[str, Any]
    values: dict[str, Any]
    turns: list[dict]
    calls: list[dict]
    redact_on_ingest: bool


def session_write_prepare(data: Mapping[str, Any], *, redact_on_ingest: bool) -> PreparedSession:
    """Map a validated payload onto column values and redact its text, once."""
    return PreparedSession(
        data=data,
        values=_session_field_values(data, redact_on_ingest=redact_on_ingest),
        turns=_turn_rows(None, None, data.get("transcript") or [], redact_on_ingest=redact_on_ingest),
        calls=_call_rows(None, None, data.get("function_calls") or [], redact_on_ingest=redact_on_ingest),
        redact_on_ingest=redact_on_ingest,
    )


@dataclass
class _Pending:
    """One payload on its way through a batch upsert."""

    index: int
    data: Mapping[str, Any]
    values: dict[str, Any]
    session: VoiceSession | None = None
    created: bool = False
    turns: list[dict] = dataclasses.field(default_factory=list)
    calls: list[dict] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class Written:
    """One session a batch wrote, with the payload that wrote it (for what is built on the record)."""

    session: VoiceSession
    created: bool
    payload: Mapping[str, Any]


def records_upsert_many(
    *,
    tenant: Tenant,
    items: list[Mapping[str, Any] | PreparedSession],
    then: Callable[[list[Written]], None] | None = None,
) -> list[UpsertResult | ServiceError]:
    """Create or update many session records of one tenant by ``stream_id``, in one transaction.

    Returns, per item and in order, its UpsertResult or the ServiceError that refused it; a
    refused item writes nothing and the others are kept (the caller decides whether one refusal
    should roll the whole batch back). Fields absent from a payload keep their stored values.
    Turns and function calls merge by ``seq``: a known seq is overwritten, a new one is added, so
    a retried or partial batch never duplicates. Text is redacted once, here, so reads only pick
    a column. The query count depends on the batch, not on its size.

    ``then`` runs in the same transaction once the records are written and before their days are
    marked changed (the last step, whose row locks last to the commit): the layer above uses it
    for what it derives from a write (qa_app.ingest: contract findings and tags).
    """
    redact = tenant.redact_on_ingest
    results: list[UpsertResult | ServiceError | None] = [None] * len(items)
    by_stream: dict[str, _Pending] = {}
    for index, item in enumerate(items):
        prepared = (
            item
            if isinstance(item, PreparedSession)
            else session_write_prepare(item, redact_on_ingest=redact)
        )
        if prepared.redact_on_ingest != redact:
            raise ValueError("prepared with a different redact_on_ingest than the tenant's")
        data = prepared.data
        pending = _Pending(
            index=index, data=data, values=dict(prepared.values), turns=prepared.turns, calls=prepared.calls
        )
        if data["stream_id"] in by_stream:  # the same stream twice: the later payload merges on top
            earlier = by_stream[data["stream_id"]]
            results[earlier.index] = ServiceError(
                "The same stream_id appears again later in this batch.", param="stream_id"
            )
        by_stream[data["stream_id"]] = pending

    # Sessions posted without a call_sid take it from a stream callback that arrived first.
    unlinked = [stream_id for stream_id, pending in by_stream.items() if not pending.values.get("call_sid")]
    stream_calls = call_sids_for_streams(tenant=tenant, stream_ids=unlinked) if unlinked else {}

    # No savepoint of its own: a refused item is refused before anything is written, and any
    # error rolls back the caller's transaction (or this one, when it is the outermost).
    with transaction.atomic(savepoint=False):
        existing = {
            session.stream_id: session
            for session in VoiceSession.objects.select_for_update().filter(
                tenant=tenant, stream_id__in=by_stream
            )
        }
        fresh, moved_from = [], []
        for stream_id, pending in by_stream.items():
            session = existing.get(stream_id)
            if session is None:
                if "agent_key" not in pending.values:
                    results[pending.index] = ServiceError(
                        "agent_key is required for a new session.", param="agent_key"
                    )
                    continue
                values = {"started_at": timezone.now(), "status": SessionStatus.ACTIVE, **pending.values}
                session = VoiceSession(
                    tenant=tenant, stream_id=stream_id, **values, **_payload_counts(pending.data)
                )
                pending.created = True
                fresh.append(session)
            else:
                moved_from.append(session.started_at)  # its old day counts it until recomputed
                for field, value in pending.values.items():
                    setattr(session, field, value)
            if not session.call_sid and stream_id in stream_calls:
                session.call_sid = pending.values["call_sid"] = stream_calls[stream_id]
            if session.ended_at is not None and session.ended_at < session.started_at:
                results[pending.index] = ServiceError(
                    "ended_at must not be before started_at.", param="ended_at"
                )
                if pending.created:
                    fresh.remove(session)
                continue
            pending.session = session

        accepted = [pending for pending in by_stream.values() if pending.session is not None]
        search_texts = {}
        for pending in accepted:
            for row in (*pending.turns, *pending.calls):
                row["tenant_id"], row["session_id"] = tenant.pk, pending.session.pk
            if pending.created:
                # Index the new session's text in its INSERT, rather than rewriting the row after.
                search_texts[pending.session.pk] = " ".join(
                    [pending.session.summary_redacted, *(turn["text_redacted"] for turn in pending.turns)]
                )
        try:
            with transaction.atomic():  # a savepoint: the common case needs no second look
                _insert_new_sessions(fresh, search_texts, ignore_conflicts=False)
            raced = False
        except IntegrityError:
            _insert_new_sessions(fresh, search_texts, ignore_conflicts=True)
            raced = True
        if raced:
            # A concurrent writer created some of these first; theirs win and get merged.
            stored = dict(
                VoiceSession.objects.select_for_update()
                .filter(tenant=tenant, stream_id__in=[session.stream_id for session in fresh])
                .values_list("stream_id", "pk")
            )
            for pending in accepted:
                if pending.created and stored[pending.data["stream_id"]] != pending.session.pk:
                    pending.session = VoiceSession.objects.get(pk=stored[pending.data["stream_id"]])
                    pending.created = False
                    moved_from.append(pending.session.started_at)
                    for field, value in pending.values.items():
                        setattr(pending.session, field, value)
                    for row in (*pending.turns, *pending.calls):
                        row["session_id"] = pending.session.pk

        # Rows of new sessions can't collide with anything: COPY them in (PostgreSQL). Rows of
        # existing sessions merge by seq.
        new_rows = [pending for pending in accepted if pending.created]
        merged_rows = [pending for pending in accepted if not pending.created]
        _insert_new_rows(TranscriptTurn, [row for pending in new_rows for row in pending.turns])
        _insert_new_rows(FunctionCall, [row for pending in new_rows for row in pending.calls])
        turns = [TranscriptTurn(**row) for pending in merged_rows for row in pending.turns]
        if turns:
            TranscriptTurn.objects.bulk_create(
                turns, update_conflicts=True, unique_fields=["session", "seq"], update_fields=_TURN_FIELDS
            )
        calls = [FunctionCall(**row) for pending in merged_rows for row in pending.calls]
        if calls:
            FunctionCall.objects.bulk_create(
                calls, update_conflicts=True, unique_fields=["session", "seq"], update_fields=_CALL_FIELDS
            )

        # New sessions counted their own payload on insert; existing ones are recounted, since a
        # merge may have added to or overwritten what was stored.
        updated = [pending for pending in accepted if not pending.created]
        ids = [pending.session.pk for pending in updated]
        turn_counts = dict(
            TranscriptTurn.objects.filter(tenant=tenant, session_id__in=ids)
            .values("session_id")
            .annotate(total=Count("id"))
            .values_list("session_id", "total")
        ) if ids else {}  # fmt: skip
        call_counts = {
            row["session_id"]: row
            for row in FunctionCall.objects.filter(tenant=tenant, session_id__in=ids)
            .values("session_id")
            .annotate(total=Count("id"), failed=Count("id", filter=Q(status=FunctionCallStatus.FAILED)))
        } if ids else {}  # fmt: skip
        now = timezone.now()
        for pending in updated:
            session = pending.session
            counted = call_counts.get(session.pk, {})
            counts = {
                "turn_count": turn_counts.get(session.pk, 0),
                "function_call_count": counted.get("total", 0),
                "failed_function_call_count": counted.get("failed", 0),
            }
            for field, value in counts.items():
                setattr(session, field, value)
            # One short UPDATE per session: far cheaper than bulk_update's CASE expressions.
            VoiceSession.objects.filter(pk=session.pk).update(**pending.values, **counts, updated_at=now)
        _search_vectors_refresh(
            [p.session.pk for p in updated if p.data.get("transcript") or "summary" in p.values]
        )
        if then is not None:
            then([Written(pending.session, pending.created, pending.data) for pending in accepted])
        # Last: the changed-day rows are locked from here to the commit, and concurrent writers of the
        # same day (today, mostly) wait on them, so hold them for as short a time as possible.
        changes.mark_changed(tenant.pk, [*moved_from, *(pending.session.started_at for pending in accepted)])
        for pending in accepted:
            results[pending.index] = UpsertResult(session=pending.session, created=pending.created)
    return results


# --- members and roles ---------------------------------------------------------------------------


def _role_group(*, tenant: Tenant, role: str):
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    group, created = Group.objects.get_or_create(name=roles.role_group_name(tenant.slug, role))
    if created:
        for permission in roles.ROLE_PERMISSIONS[role]:
            assign_perm(f"sessions_app.{permission}", group, tenant)
    return group


def member_role(*, tenant: Tenant, user) -> str | None:
    """The user's role in the tenant, or None when they are not a member."""
    names = {roles.role_group_name(tenant.slug, role): role for role in roles.ROLES}
    group = user.groups.filter(name__in=names).values_list("name", flat=True).first()
    return names.get(group)


@transaction.atomic
def member_set_role(*, tenant: Tenant, user, role: str, actor: Actor = SYSTEM) -> bool:
    """Give the user exactly one role in the tenant. Returns False when nothing changed."""
    if role not in roles.ROLES:
        raise ServiceError(f"role must be one of: {', '.join(roles.ROLES)}.", param="role")
    previous = member_role(tenant=tenant, user=user)
    if previous == role:
        return False
    if previous == roles.ADMIN:
        _keep_an_admin(tenant=tenant, leaving=user)
    for other in roles.ROLES:
        if other != role:
            user.groups.remove(*user.groups.filter(name=roles.role_group_name(tenant.slug, other)))
    user.groups.add(_role_group(tenant=tenant, role=role))
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.MEMBER_ROLE_CHANGED,
        target_type="user",
        target_id=user.get_username(),
        details={"from": previous, "to": role},
    )
    return True


def _tenant_admin_ids(tenant: Tenant) -> set[int]:
    from django.contrib.auth import get_user_model

    name = roles.role_group_name(tenant.slug, roles.ADMIN)
    return set(get_user_model().objects.filter(groups__name=name).values_list("pk", flat=True))


def _keep_an_admin(*, tenant: Tenant, leaving) -> None:
    """A tenant always keeps one admin, so nobody can lock the tenant out of its own settings."""
    if _tenant_admin_ids(tenant) <= {leaving.pk}:
        raise ServiceError(
            "This is the tenant's last admin; make someone else admin first.", param="role", code="last_admin"
        )


@transaction.atomic
def member_remove(*, tenant: Tenant, user, actor: Actor = SYSTEM) -> bool:
    """Take away the user's role and every permission they hold on the tenant, and any shares.

    Returns False when the user was not a member.
    """
    previous = member_role(tenant=tenant, user=user)
    if previous == roles.ADMIN:
        _keep_an_admin(tenant=tenant, leaving=user)
    role_groups = [roles.role_group_name(tenant.slug, role) for role in roles.ROLES]
    groups = list(user.groups.filter(name__in=role_groups))
    direct = TenantUserObjectPermission.objects.filter(user=user, content_object=tenant)
    shares = SessionShare.objects.filter(tenant=tenant, user=user)
    permissions = sorted(direct.values_list("permission__codename", flat=True))
    if not groups and not permissions and not shares.exists():
        return False
    user.groups.remove(*groups)
    direct.delete()
    shared = shares.count()
    shares.delete()
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.MEMBER_REMOVED,
        target_type="user",
        target_id=user.get_username(),
        details={"role": previous, "permissions": permissions, "shared_sessions": shared},
    )
    return True


@transaction.atomic
def member_permission_set(
    *, tenant: Tenant, user, permission: str, granted: bool, actor: Actor = SYSTEM
) -> bool:
    """Grant or withdraw one tenant permission for one user, on top of their role.

    For example raw transcript access for one trusted analyst. Returns False when nothing changed.
    """
    from guardian.shortcuts import assign_perm, remove_perm

    from sessions_app.access import PERMISSIONS

    if permission not in PERMISSIONS:
        raise ServiceError(f"permission must be one of: {', '.join(PERMISSIONS)}.", param="permission")
    direct = TenantUserObjectPermission.objects.filter(
        user=user, content_object=tenant, permission__codename=permission
    )
    if direct.exists() == granted:
        return False
    if granted:
        assign_perm(f"sessions_app.{permission}", user, tenant)
    else:
        remove_perm(f"sessions_app.{permission}", user, tenant)
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.MEMBER_PERMISSION_CHANGED,
        target_type="user",
        target_id=user.get_username(),
        details={"permission": permission, "granted": granted},
    )
    return True
