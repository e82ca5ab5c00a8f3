"""Automatic evaluators: defining them (versioned, audited), and judging finished calls with them.

Each built-in kind is a pure function of a call's facts (``CallFacts``: its turns, tool calls,
escalation, open contract findings and, when it has a recording, the latency the audio measured)
and the version's settings, returning pass, fail or not applicable with a score and evidence that
names turns or tool calls by ``seq``. ``sessions_evaluate`` reads the facts of a batch of sessions
in a fixed number of queries and replaces their results; a write queues it for after the commit
(``evaluations_queue``), and ``manage.py run_evaluators`` runs it over past sessions.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from qa_app.db import facts
from qa_app.models import (
    AutomaticEvaluation,
    AutomaticResult,
    Evaluator,
    EvaluatorKind,
    EvaluatorVersion,
    JudgeEndpoint,
)
from sessions_app.actors import SYSTEM, Actor
from sessions_app.audit import AuditAction, audit_record
from sessions_app.db import reads, writes
from sessions_app.errors import ServiceError
from sessions_app.models import Tenant

# Sessions are judged once they are over.
FINISHED = facts.FINISHED
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DEFAULT_PERSON_PHRASES = [
    "speak to a person",
    "talk to a person",
    "speak to someone",
    "talk to someone",
    "real person",
    "a human",
    "speak to a human",
    "talk to a human",
    "representative",
    "operator",
    "speak to an agent",
    "transfer me",
]


# --- the facts an evaluator reads -----------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    seq: int
    role: str
    text: str
    start_ms: int | None
    end_ms: int | None
    interrupted: bool

    @functools.cached_property
    def words(self) -> str:
        """The text as phrases are matched against it (lowercase, no punctuation), made once."""
        return _normalized(self.text)


@dataclass(frozen=True)
class Call:
    seq: int
    name: str
    status: str


@dataclass
class CallFacts:
    session_id: Any
    agent_key: str
    prompt_version: str
    status: str
    escalated: bool
    escalation_at_ms: int | None
    duration_ms: int | None
    turns: list[Turn] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    open_findings: list[int] = field(default_factory=list)  # call seqs
    measured_ms: dict[int, int] = field(default_factory=dict)  # agent turn seq -> heard latency


@dataclass(frozen=True)
class Outcome:
    result: str
    score: float | None = None
    summary: str = ""
    evidence: list[dict] = field(default_factory=list)


def _turn(seq: int, note: str) -> dict:
    return {"target": "turn", "seq": seq, "note": note}


def _call(seq: int, note: str) -> dict:
    return {"target": "call", "seq": seq, "note": note}


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


@functools.lru_cache(maxsize=4096)
def _phrase(text: str) -> str:
    return _normalized(text)


def _normalized(text: str) -> str:
    return " " + " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split()) + " "


def _says(turn: Turn, phrase: str) -> bool:
    return _phrase(phrase) in turn.words


@functools.lru_cache(maxsize=256)
def _any_phrase(phrases: tuple[str, ...]) -> re.Pattern:
    """One pattern for "says any of these" (each phrase as ``_says`` matches it): a turn is
    searched once, not once per phrase."""
    return re.compile("|".join(re.escape(_phrase(phrase)) for phrase in phrases))


def _interpolated(values: list[float], p: float) -> float:
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- the built-in kinds ---------------------------------------------------------------------------


def response_gaps(facts: CallFacts, *, prefer_measured: bool) -> list[tuple[int, int]]:
    """(agent turn seq, gap ms) for each agent turn that answers the caller: the latency the
    recording heard when there is one (and ``prefer_measured``), else the turns' own timings."""
    gaps, previous_caller = [], None
    for turn in facts.turns:
        if turn.role == "caller":
            previous_caller = turn
        elif turn.role == "agent":
            if previous_caller is not None:
                if prefer_measured and turn.seq in facts.measured_ms:
                    gaps.append((turn.seq, facts.measured_ms[turn.seq]))
                elif turn.start_ms is not None and previous_caller.end_ms is not None:
                    gaps.append((turn.seq, max(0, turn.start_ms - previous_caller.end_ms)))
            previous_caller = None
    return gaps


def _response_latency(facts: CallFacts, config: Mapping) -> Outcome:
    limit = config["max_p95_ms"]
    gaps = response_gaps(facts, prefer_measured=config.get("source", "auto") != "reported")
    if not gaps:
        return Outcome(AutomaticResult.NOT_APPLICABLE, summary="No timed agent response to measure.")
    p95 = _interpolated([gap for _, gap in gaps], 0.95)
    slow = [_turn(seq, f"answered after {_seconds(gap)}") for seq, gap in gaps if gap > limit]
    result = AutomaticResult.FAIL if p95 > limit else AutomaticResult.PASS
    return Outcome(
        result,
        score=round(p95, 1),
        summary=f"p95 response {_seconds(p95)} over {len(gaps)} answer(s); limit {_seconds(limit)}.",
        evidence=slow,
    )


def _longest_silence(facts: CallFacts, config: Mapping) -> Outcome:
    limit = config["max_ms"]
    timed = sorted((t for t in facts.turns if t.start_ms is not None), key=lambda t: (t.start_ms, t.seq))
    if len(timed) < 2:
        return Outcome(AutomaticResult.NOT_APPLICABLE, summary="Fewer than two timed turns.")
    longest, after, reach = 0, None, None
    over = []
    for turn in timed:
        if reach is not None and turn.start_ms - reach > 0:
            gap = turn.start_ms - reach
            if gap > longest:
                longest, after = gap, turn.seq
            if gap > limit:
                over.append(_turn(turn.seq, f"after {_seconds(gap)} of silence"))
        end = turn.end_ms if turn.end_ms is not None else turn.start_ms
        reach = end if reach is None else max(reach, end)
    result = AutomaticResult.FAIL if longest > limit else AutomaticResult.PASS
    evidence = over or (
        [_turn(after, f"the longest silence, {_seconds(longest)}, ended here")] if after else []
    )
    return Outcome(
        result,
        score=longest,
        summary=f"Longest silence {_seconds(longest)}; limit {_seconds(limit)}.",
        evidence=evidence,
    )


def _interruptions(facts: CallFacts, config: Mapping) -> Outcome:
    limit = config.get("max", 0)
    cut = [t for t in facts.turns if t.interrupted]
    result = AutomaticResult.FAIL if len(cut) > limit else AutomaticResult.PASS
    return Outcome(
        result,
        score=len(cut),
        summary=f"{len(cut)} interrupted turn(s); at most {limit} allowed.",
        evidence=[_turn(t.seq, f"{t.role} turn cut off") for t in cut],
    )


def _tool_failure(facts: CallFacts, config: Mapping) -> Outcome:
    limit = config.get("max_failed", 0)
    tools = set(config.get("tools") or [])
    watched = [c for c in facts.calls if not tools or c.name in tools]
    failed = [c for c in watched if c.status == "failed"]
    if not watched:
        return Outcome(AutomaticResult.PASS, score=0, summary="No tool call to check.")
    result = AutomaticResult.FAIL if len(failed) > limit else AutomaticResult.PASS
    return Outcome(
        result,
        score=len(failed),
        summary=f"{len(failed)} of {len(watched)} tool call(s) failed; at most {limit} allowed.",
        evidence=[_call(c.seq, f"{c.name} failed") for c in failed],
    )


def _required_phrase(facts: CallFacts, config: Mapping) -> Outcome:
    phrase, within = config["phrase"], config.get("within_agent_turns", 2)
    agent = [t for t in facts.turns if t.role == "agent"][:within]
    if not agent:
        return Outcome(AutomaticResult.NOT_APPLICABLE, summary="The agent never spoke.")
    for turn in agent:
        if _says(turn, phrase):
            return Outcome(
                AutomaticResult.PASS,
                score=1,
                summary=f"Said in agent turn {turn.seq}.",
                evidence=[_turn(turn.seq, "said here")],
            )
    return Outcome(
        AutomaticResult.FAIL,
        score=0,
        summary=f"Not said in the first {len(agent)} agent turn(s).",
        evidence=[_turn(t.seq, "not here") for t in agent],
    )


def _forbidden_phrase(facts: CallFacts, config: Mapping) -> Outcome:
    phrase = config["phrase"]
    said = [t for t in facts.turns if t.role == "agent" and _says(t, phrase)]
    return Outcome(
        AutomaticResult.FAIL if said else AutomaticResult.PASS,
        score=len(said),
        summary=f"Said in {len(said)} agent turn(s)." if said else "Never said.",
        evidence=[_turn(t.seq, "said here") for t in said],
    )


def _escalation_on_request(facts: CallFacts, config: Mapping) -> Outcome:
    phrases = config.get("phrases") or DEFAULT_PERSON_PHRASES
    most = config.get("max_agent_turns_after", 2)
    asks = _any_phrase(tuple(phrases)).search
    asked = next((t for t in facts.turns if t.role == "caller" and asks(t.words)), None)
    if asked is None:
        return Outcome(AutomaticResult.NOT_APPLICABLE, summary="The caller never asked for a person.")
    request = _turn(asked.seq, "the caller asked for a person")
    if not facts.escalated:
        return Outcome(
            AutomaticResult.FAIL, score=0, summary="Asked for a person; never escalated.", evidence=[request]
        )
    after = [
        t
        for t in facts.turns
        if t.role == "agent"
        and t.seq > asked.seq
        and (
            facts.escalation_at_ms is None or (t.start_ms is not None and t.start_ms < facts.escalation_at_ms)
        )
    ]
    if facts.escalation_at_ms is not None and len(after) > most:
        return Outcome(
            AutomaticResult.FAIL,
            score=len(after),
            summary=f"Escalated only after {len(after)} more agent turns (at most {most}).",
            evidence=[request, *(_turn(t.seq, "kept the caller") for t in after)],
        )
    return Outcome(
        AutomaticResult.PASS, score=len(after), summary="Escalated when asked.", evidence=[request]
    )


def _call_length(facts: CallFacts, config: Mapping) -> Outcome:
    if facts.duration_ms is None:
        return Outcome(AutomaticResult.NOT_APPLICABLE, summary="The call has no end time.")
    longest, shortest = config.get("max_ms"), config.get("min_ms", 0)
    too_long = longest is not None and facts.duration_ms > longest
    too_short = facts.duration_ms < shortest
    bounds = (
        f"{_seconds(shortest)} to {_seconds(longest)}"
        if longest is not None
        else f"at least {_seconds(shortest)}"
    )
    return Outcome(
        AutomaticResult.FAIL if too_long or too_short else AutomaticResult.PASS,
        score=facts.duration_ms,
        summary=f"The call lasted {_seconds(facts.duration_ms)}; allowed {bounds}.",
    )


def _contract_findings(facts: CallFacts, config: Mapping) -> Outcome:
    limit = config.get("max_open", 0)
    found = sorted(set(facts.open_findings))
    return Outcome(
        AutomaticResult.FAIL if len(found) > limit else AutomaticResult.PASS,
        score=len(found),
        summary=f"{len(found)} tool call(s) with an open contract finding; at most {limit} allowed.",
        evidence=[_call(seq, "open contract finding") for seq in found],
    )


@dataclass(frozen=True)
class KindSpec:
    # None: judged elsewhere (the LLM judge asks the tenant's endpoint, ``qa_app.llm_judge``).
    check: Callable[[CallFacts, Mapping], Outcome] | None
    # setting -> (type, required, default)
    settings: Mapping[str, tuple[type, bool, Any]]


KINDS: dict[str, KindSpec] = {
    EvaluatorKind.RESPONSE_LATENCY: KindSpec(
        _response_latency, {"max_p95_ms": (int, True, None), "source": (str, False, "auto")}
    ),
    EvaluatorKind.LONGEST_SILENCE: KindSpec(_longest_silence, {"max_ms": (int, True, None)}),
    EvaluatorKind.INTERRUPTIONS: KindSpec(_interruptions, {"max": (int, False, 0)}),
    EvaluatorKind.TOOL_FAILURE: KindSpec(
        _tool_failure, {"max_failed": (int, False, 0), "tools": (list, False, [])}
    ),
    EvaluatorKind.REQUIRED_PHRASE: KindSpec(
        _required_phrase, {"phrase": (str, True, None), "within_agent_turns": (int, False, 2)}
    ),
    EvaluatorKind.FORBIDDEN_PHRASE: KindSpec(_forbidden_phrase, {"phrase": (str, True, None)}),
    EvaluatorKind.ESCALATION_ON_REQUEST: KindSpec(
        _escalation_on_request, {"phrases": (list, False, []), "max_agent_turns_after": (int, False, 2)}
    ),
    EvaluatorKind.CALL_LENGTH: KindSpec(
        _call_length, {"max_ms": (int, False, None), "min_ms": (int, False, 0)}
    ),
    EvaluatorKind.CONTRACT_FINDINGS: KindSpec(_contract_findings, {"max_open": (int, False, 0)}),
    EvaluatorKind.LLM_JUDGE: KindSpec(None, {"rubric": (str, True, None), "max_turns": (int, False, 200)}),
}
# Text settings are short phrases, except a rubric.
TEXT_LIMITS = {"rubric": 4000}
SOURCES = ("auto", "measured", "reported")


def config_clean(kind: str, config: Mapping | None) -> dict:
    """The settings of ``kind`` with their defaults, checked; a ServiceError names the one at fault."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ServiceError(f"kind is one of {', '.join(KINDS)}.", param="kind")
    config = dict(config or {})
    unknown = sorted(set(config) - set(spec.settings))
    if unknown:
        raise ServiceError(
            f"{kind} takes {', '.join(spec.settings) or 'no settings'}, not {', '.join(unknown)}.",
            param=f"config.{unknown[0]}",
        )
    cleaned = {}
    for name, (kind_type, required, default) in spec.settings.items():
        value = config.get(name, default)
        param = f"config.{name}"
        if value is None:
            if required:
                raise ServiceError(f"{name} is required for {kind}.", param=param)
            continue
        if kind_type is int:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 86_400_000:
                raise ServiceError(f"{name} is a whole number from 0 to 86400000.", param=param)
        elif kind_type is str:
            most = TEXT_LIMITS.get(name, 500)
            if not isinstance(value, str) or not value.strip() or len(value) > most:
                raise ServiceError(f"{name} is text of 1 to {most} characters.", param=param)
            value = value.strip()
        elif kind_type is list:
            if (
                not isinstance(value, list)
                or len(value) > 100
                or not all(isinstance(item, str) and item.strip() and len(item) <= 200 for item in value)
            ):
                raise ServiceError(f"{name} is a list of up to 100 short texts.", param=param)
            value = [item.strip() for item in value]
        cleaned[name] = value
    if kind == EvaluatorKind.RESPONSE_LATENCY and cleaned.get("source") not in SOURCES:
        raise ServiceError(f"source is one of {', '.join(SOURCES)}.", param="config.source")
    if kind == EvaluatorKind.CALL_LENGTH and cleaned.get("max_ms") is None and not cleaned.get("min_ms"):
        raise ServiceError("call_length needs max_ms, min_ms or both.", param="config.max_ms")
    if kind == EvaluatorKind.LLM_JUDGE and not 1 <= cleaned["max_turns"] <= 1000:
        raise ServiceError("max_turns is from 1 to 1000.", param="config.max_turns")
    return cleaned


def evaluate(facts: CallFacts, version: EvaluatorVersion) -> Outcome:
    return KINDS[version.kind].check(facts, version.config)


# --- defining evaluators -------------------------------------------------------------------------


@dataclass(frozen=True)
class Saved:
    evaluator: Evaluator
    version: EvaluatorVersion
    created: bool  # a new evaluator
    changed: bool  # a new version


@transaction.atomic
def evaluator_save(
    *,
    tenant: Tenant,
    name: str,
    agent_key: str,
    kind: str,
    config: Mapping | None = None,
    prompt_versions: Iterable[str] = (),
    active: bool = True,
    readiness_max_fail_rate: float | None = None,
    actor: Actor = SYSTEM,
) -> Saved:
    """Create an evaluator or change it. A change of kind, settings or covered versions makes a new
    version (results keep theirs); saving the same rule again changes nothing. Audited.
    ``readiness_max_fail_rate`` (0 to 1) makes it a launch gate; it is no part of the version."""
    name = (name or "").strip().lower()
    if not NAME.match(name):
        raise ServiceError("name is 1-64 lowercase letters, digits, '-' or '_'.", param="name")
    agent_key = (agent_key or "").strip()
    if not agent_key or len(agent_key) > 100:
        raise ServiceError("agent_key is required (at most 100 characters).", param="agent_key")
    cleaned = config_clean(kind, config)
    if kind == EvaluatorKind.LLM_JUDGE and not JudgeEndpoint.objects.filter(tenant=tenant).exists():
        raise ServiceError("Set up the LLM judge endpoint in Settings first.", param="kind")
    gate = readiness_max_fail_rate
    if gate is not None and (
        isinstance(gate, bool) or not isinstance(gate, int | float) or not 0 <= gate <= 1
    ):
        raise ServiceError("readiness_max_fail_rate is a share from 0 to 1.", param="readiness_max_fail_rate")
    gate = None if gate is None else float(gate)
    versions = sorted({v.strip() for v in prompt_versions if v and v.strip()})
    if any(len(v) > 64 for v in versions):
        raise ServiceError("A prompt version is at most 64 characters.", param="prompt_versions")
    evaluator = Evaluator.objects.select_for_update().filter(tenant=tenant, name=name).first()
    created = evaluator is None
    if created:
        evaluator = Evaluator.objects.create(
            tenant=tenant, name=name, agent_key=agent_key, active=active, readiness_max_fail_rate=gate
        )
        current = None
    else:
        current = evaluator.versions.filter(version=evaluator.current_version).first()
    same = (
        current is not None
        and current.kind == kind
        and current.config == cleaned
        and current.prompt_versions == versions
        and evaluator.agent_key == agent_key
    )
    if same:
        if (evaluator.active, evaluator.readiness_max_fail_rate) != (active, gate):
            audit_record(
                actor=actor,
                tenant=tenant,
                action=AuditAction.EVALUATOR_CHANGED,
                target_type="evaluator",
                target_id=name,
                details={
                    "before": {
                        "active": evaluator.active,
                        "readiness_max_fail_rate": evaluator.readiness_max_fail_rate,
                    },
                    "after": {"active": active, "readiness_max_fail_rate": gate},
                },
            )
            evaluator.active, evaluator.readiness_max_fail_rate = active, gate
            evaluator.save(update_fields=["active", "readiness_max_fail_rate", "updated_at"])
        return Saved(evaluator, current, created=False, changed=False)
    number = 1 if current is None else evaluator.current_version + 1
    version = EvaluatorVersion.objects.create(
        tenant=tenant,
        evaluator=evaluator,
        version=number,
        kind=kind,
        config=cleaned,
        prompt_versions=versions,
        created_by=actor.user,
    )
    evaluator.agent_key, evaluator.current_version, evaluator.active = agent_key, number, active
    evaluator.readiness_max_fail_rate = gate
    evaluator.save(
        update_fields=["agent_key", "current_version", "active", "readiness_max_fail_rate", "updated_at"]
    )
    audit_record(
        actor=actor,
        tenant=tenant,
        action=AuditAction.EVALUATOR_CHANGED,
        target_type="evaluator",
        target_id=name,
        details={
            "version": number,
            "kind": kind,
            "config": cleaned,
            "agent_key": agent_key,
            "prompt_versions": versions,
            "readiness_max_fail_rate": gate,
        },
    )
    return Saved(evaluator, version, created=created, changed=True)


def current_versions(tenant_id: int) -> list[EvaluatorVersion]:
    """The versions in force of the tenant's active evaluators, with their evaluators."""
    return [
        version
        for version in EvaluatorVersion.objects.filter(
            tenant_id=tenant_id, evaluator__active=True
        ).select_related("evaluator")
        if version.version == version.evaluator.current_version
    ]


def _applies(version: EvaluatorVersion, facts: CallFacts) -> bool:
    return version.evaluator.agent_key == facts.agent_key and (
        not version.prompt_versions or facts.prompt_version in version.prompt_versions
    )


# --- judging sessions ------------------------------------------------------------------------------


def call_facts(tenant_id: int, session_ids: list) -> list[CallFacts]:
    """The facts of these finished sessions: five statements however many, sent together
    (``qa_app.db.facts``). ``session_id`` is the id as the database gives it back."""
    if not session_ids:
        return []
    reader = reads.children_connection()
    _, clause, params = reads.ids_clause(reader, tenant_id, session_ids)
    statements = [(sql.format(ids=clause), params) for sql in facts.facts_statements(reader.vendor)]
    session_rows, turn_rows, call_rows, finding_rows, timing_rows = reads.fetch_all(reader, statements)
    sessions = {
        pk: CallFacts(
            session_id=pk,
            agent_key=agent_key,
            prompt_version=prompt_version,
            status=status,
            escalated=bool(escalated),
            escalation_at_ms=escalation_at_ms,
            duration_ms=None if duration is None else max(0, int(duration)),
        )
        for pk, agent_key, prompt_version, status, escalated, escalation_at_ms, duration in session_rows
    }
    for session_id, seq, role, text, start_ms, end_ms, interrupted in turn_rows:
        if session_id in sessions:
            sessions[session_id].turns.append(Turn(seq, role, text, start_ms, end_ms, bool(interrupted)))
    for session_id, seq, name, status in call_rows:
        if session_id in sessions:
            sessions[session_id].calls.append(Call(seq, name, status))
    for session_id, call_seq in finding_rows:
        if session_id in sessions:
            sessions[session_id].open_findings.append(call_seq)
    for session_id, turn_seq, measured in timing_rows:
        if session_id in sessions:
            sessions[session_id].measured_ms[turn_seq] = measured
    return list(sessions.values())


def sessions_evaluate(
    *, tenant_id: int, session_ids: list, versions: list[EvaluatorVersion] | None = None
) -> int:
    """Judge these sessions (the finished ones) with every evaluator in force that covers them,
    replacing what the same versions said before. Returns how many results were written."""
    versions = current_versions(tenant_id) if versions is None else versions
    if not versions or not session_ids:
        return 0
    return _replace(tenant_id, versions, *_judge(tenant_id, session_ids, versions))


def sessions_evaluate_stream(
    *, tenant_id: int, batches: Iterable[list], versions: list[EvaluatorVersion]
) -> Iterator[tuple[int, int]]:
    """``sessions_evaluate`` over a run of batches, yielding (sessions, results) per batch once
    its results are committed. On PostgreSQL a batch's results are written while the next batch
    is read and judged (``writes.written_behind``)."""
    if not versions:
        return
    judged = ((len(ids), _judge(tenant_id, ids, versions)) for ids in batches)
    yield from writes.written_behind(
        judged, lambda batch: (batch[0], _replace(tenant_id, versions, *batch[1]))
    )


def _judge(tenant_id: int, session_ids: list, versions: list[EvaluatorVersion]) -> tuple[list, list[dict]]:
    """The finished sessions among these that some version covers, and the result rows of every
    version in force over them (remote judges asked here, before any transaction opens)."""
    by_agent: dict[str, list[EvaluatorVersion]] = defaultdict(list)
    for version in versions:
        by_agent[version.evaluator.agent_key].append(version)
    agents = set(by_agent)
    facts = [f for f in call_facts(tenant_id, session_ids) if f.agent_key in agents]
    now = timezone.now()
    judged, asked = [], []
    for item in facts:
        for version in by_agent[item.agent_key]:
            if not _applies(version, item):
                continue
            if version.kind == EvaluatorKind.LLM_JUDGE:
                asked.append((item, version))
            else:
                judged.append((item, version, evaluate(item, version)))
    if asked:
        # Asked before the transaction opens: no lock is held while a remote judge thinks.
        from qa_app import llm_judge

        verdicts = llm_judge.judge_many(
            tenant_id,
            [
                (item.session_id, version.config["rubric"], version.config.get("max_turns", 200))
                for item, version in asked
            ],
        )
        judged += [(item, version, verdict) for (item, version), verdict in zip(asked, verdicts, strict=True)]
    rows = [
        {
            "tenant_id": tenant_id,
            "session_id": item.session_id,
            "evaluator_id": version.evaluator_id,
            "evaluator_version_id": version.pk,
            "result": outcome.result,
            "score": outcome.score,
            "summary": outcome.summary[:300],
            "evidence": outcome.evidence[:50],
            "created_at": now,
        }
        for item, version, outcome in judged
    ]
    return [item.session_id for item in facts], rows


def _replace(tenant_id: int, versions: list[EvaluatorVersion], session_ids: list, rows: list[dict]) -> int:
    """Replace what these versions said about these sessions with ``rows``, in one transaction."""
    if not session_ids:
        return 0
    with transaction.atomic():
        # Judgments are recomputed from the record: a crash may lose the last of them (the next
        # write or run_evaluators redoes it), so the commit doesn't wait for the disk.
        writes.commit_without_waiting()
        AutomaticEvaluation.objects.filter(
            tenant_id=tenant_id, session_id__in=session_ids, evaluator_version__in=versions
        ).delete()
        # Rows of these (session, version) pairs were just deleted: COPY on PostgreSQL.
        writes.insert_new_rows(AutomaticEvaluation, rows)
    return len(rows)


def evaluations_queue(tenant_id: int, session_ids: list) -> None:
    """After the write commits, judge these sessions in the background (``qa_app.tasks``)."""
    if not session_ids:
        return
    from qa_app import tasks

    ids = [str(pk) for pk in session_ids]
    # Robust: the write has committed, and a broker that can't be reached must not turn its answer
    # into an error (the error is logged; run_evaluators judges what was missed).
    transaction.on_commit(lambda: tasks.sessions_evaluate_job.delay(tenant_id, ids), robust=True)
