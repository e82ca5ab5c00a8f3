"""Load the demo: a tenant with realistic sessions, four users (one per role, two analysts) and an API key."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from qa_app.calibration import adjudicate, demands_create, gold_set, review_rule_save
from qa_app.contracts import contract_save
from qa_app.demo import audio as demo_audio
from qa_app.demo.sessions import generate_demo_sessions
from qa_app.evaluators import evaluator_save, sessions_evaluate
from qa_app.ingest import session_upsert
from qa_app.models import Evaluation, ReviewRule
from qa_app.payloads import VoiceSessionSerializer
from qa_app.readiness import attestation_record
from qa_app.services import evaluation_record
from sessions_app.actors import SYSTEM, Actor
from sessions_app.models import ApiKey, Recording, Scope, Tenant
from sessions_app.roles import ADMIN, ANALYST, VIEWER
from sessions_app.services import (
    api_key_create,
    api_key_revoke,
    member_set_role,
    tenant_create,
)
from sessions_app.services.recordings import recording_process, recording_store

DEMO_TENANT = "demo"
DEMO_KEY_NAME = "demo key (seed_demo)"
DEMO_USERS = {
    "analyst": (ANALYST, "analyst-demo-pass"),
    "admin": (ADMIN, "admin-demo-pass"),
    "viewer": (VIEWER, "viewer-demo-pass"),
    # A second reviewer, so the calibration page has agreement to measure.
    "analyst2": (ANALYST, "analyst2-demo-pass"),
}
REFUND_SCHEMA = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string", "pattern": "^[0-9]{5}$"},
        "amount": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 500,
            "description": "Dollars, not cents.",
        },
        "reason": {"type": "string"},
    },
    "required": ["order_id", "amount"],
}
DEMO_CONTRACTS = [
    (
        "billing-agent",
        "Answer billing questions; refund duplicate charges and returns up to $500.",
        [{"name": "lookup_order", "schema": None}, {"name": "issue_refund", "schema": REFUND_SCHEMA}],
        "Transfer refunds above $500, disputes, and any caller who asks for a person twice.",
    ),
    (
        "scheduling-agent",
        "Book, move and cancel clinic appointments.",
        [
            {"name": "check_availability", "schema": None},
            {"name": "book_appointment", "schema": None},
            {"name": "cancel_appointment", "schema": None},
        ],
        "",
    ),
    (
        "support-agent",
        "Account access, password resets and delivery questions.",
        [
            {"name": "lookup_account", "schema": None},
            {"name": "reset_password", "schema": None},
            {"name": "track_shipment", "schema": None},
        ],
        "Transfer security incidents and lost packages over $200.",
    ),
]
# Automatic evaluators on every agent: v12's greeting discloses the recording and v11's doesn't,
# so the disclosure rule tells the versions apart.
DEMO_EVALUATORS = [
    ("recording-disclosure", "required_phrase", {"phrase": "recorded", "within_agent_turns": 1}),
    ("response-latency", "response_latency", {"max_p95_ms": 2500}),
    ("human-on-request", "escalation_on_request", {"max_agent_turns_after": 2}),
    ("tool-failures", "tool_failure", {"max_failed": 0}),
    ("long-silence", "longest_silence", {"max_ms": 8000}),
]
DEMO_KEY_SCOPES = [Scope.SESSIONS_READ, Scope.SESSIONS_WRITE, Scope.QA_WRITE, Scope.AUDIT_READ]


class Command(BaseCommand):
    help = "Create the demo tenant, users, sessions and a fresh demo API key (printed)."

    def add_arguments(self, parser):
        parser.add_argument("--sessions", type=int, default=240, help="How many sessions to generate.")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--if-empty", action="store_true", help="Skip the sessions when the demo tenant already has some."
        )

    def handle(self, *args, sessions, seed, if_empty, **options):
        tenant = Tenant.objects.filter(slug=DEMO_TENANT).first() or tenant_create(
            slug=DEMO_TENANT, name="Demo Voice Co."
        )
        users = self._users(tenant)
        if if_empty and tenant.sessions.exists():
            self.stderr.write(f"Demo tenant already has {tenant.sessions.count()} sessions; keeping them.")
        else:
            self._contracts(tenant, users["admin"])
            self._sessions(tenant, users, count=sessions, seed=seed)
            self._calibration(tenant, users)
        raw_key = self._fresh_key(tenant)
        self.stderr.write(
            "\nDemo ready.\n"
            f"  Sessions:   {tenant.sessions.count()} in tenant '{tenant.slug}'\n"
            "  Logins:     "
            + ", ".join(f"{name} / {password} ({role})" for name, (role, password) in DEMO_USERS.items())
            + "\n  Review:     http://127.0.0.1:8000/review/\n"
            f"  API key:    {raw_key}\n"
            f"  Try:        export KEY={raw_key}\n"
            '              curl -sS "http://127.0.0.1:8000/api/v1/voice-sessions?limit=25&offset=0" '
            '-H "Authorization: Bearer $KEY"\n'
        )

    def _users(self, tenant):
        user_model = get_user_model()
        users = {}
        for username, (role, password) in DEMO_USERS.items():
            user, created = user_model.objects.get_or_create(
                username=username, defaults={"email": f"{username}@demo.example", "is_staff": role == ADMIN}
            )
            if created:
                user.set_password(password)
                user.save()
            member_set_role(tenant=tenant, user=user, role=role)
            users[username] = user
        return users

    @transaction.atomic
    def _sessions(self, tenant, users, *, count, seed):
        demo = generate_demo_sessions(count=count, seed=seed, now=timezone.now())
        # Twelve of them were spoken (qa_app/demo/audio.py): their turns sit where the audio has them.
        spoken = demo_audio.manifest() if seed == demo_audio.SEED else {}
        recorded = 0
        for index, item in enumerate(demo, start=1):
            entry = spoken.get(item.payload["stream_id"])
            if entry:
                item = demo_audio.spoken_session(item, entry)
            serializer = VoiceSessionSerializer(data=item.payload)
            serializer.is_valid(raise_exception=True)
            session = session_upsert(tenant=tenant, data=serializer.validated_data, actor=SYSTEM).session
            if entry and demo_audio.audio_path(session.stream_id).exists():
                recorded += self._recording(session)
            # Evaluations are append-only: a re-seed updates sessions but never reviews them twice.
            if item.review is not None and not session.evaluations.exists():
                evaluation_record(
                    session=session,
                    actor=Actor(user=users.get(item.review.reviewer)),
                    verdict=item.review.verdict,
                    score=item.review.score,
                    failure_categories=item.review.failure_categories,
                    notes=item.review.notes,
                )
            if index % 50 == 0:
                self.stderr.write(f"  {index}/{len(demo)} sessions")
        if recorded:
            self.stderr.write(f"  {recorded} recordings attached, redacted and measured")
        judged = sessions_evaluate(
            tenant_id=tenant.pk, session_ids=list(tenant.sessions.values_list("pk", flat=True))
        )
        self.stderr.write(f"  {judged} automatic evaluations")

    @transaction.atomic
    def _calibration(self, tenant, users) -> None:
        """A queue rule, a second reviewer on some of the first one's calls (who mostly agrees),
        a few rulings on the disagreements, and gold sessions."""
        if ReviewRule.objects.filter(tenant=tenant).exists():
            return
        review_rule_save(
            tenant=tenant, sample_percent=10, extra_review_percent=20, actor=Actor(user=users["admin"])
        )
        ids = list(tenant.sessions.order_by("started_at").values_list("pk", flat=True))
        picked = demands_create(tenant.pk, ids)
        reviewed = list(
            Evaluation.objects.filter(tenant=tenant, reviewer=users["analyst"])
            .order_by("created_at")
            .select_related("session")
        )
        second, disputed = Actor(user=users["analyst2"]), []
        flip = {"pass": "fail", "fail": "needs_work", "needs_work": "pass"}
        for n, evaluation in enumerate(reviewed[:40]):
            verdict = flip[evaluation.verdict] if n % 6 == 5 else evaluation.verdict
            evaluation_record(
                session=evaluation.session, actor=second, verdict=verdict, notes="Second review."
            )
            if verdict != evaluation.verdict:
                disputed.append((evaluation.session, verdict))
        for session, verdict in disputed[::2]:  # half are settled; the rest wait in the queue
            adjudicate(
                session=session, verdict=verdict, notes="Listened again.", actor=Actor(user=users["admin"])
            )
        for evaluation in reviewed[40:46]:
            gold_set(session=evaluation.session, verdict=evaluation.verdict, actor=Actor(user=users["admin"]))
        self.stderr.write(
            f"  calibration: {picked} calls picked for review, {len(reviewed[:40])} reviewed twice, "
            f"{len(disputed)} disagreements ({len(disputed[::2])} ruled), {len(reviewed[40:46])} gold"
        )

    def _recording(self, session) -> int:
        """Attach the session's demo audio and process it now (the demo is ready before any worker
        starts); a re-seed keeps an identical recording."""
        path = demo_audio.audio_path(session.stream_id)
        existing = Recording.objects.filter(session=session).first()
        if existing is not None and existing.status == "ready" and existing.size_bytes == path.stat().st_size:
            return 0
        with path.open("rb") as file:
            stored = recording_store(session=session, file=file, content_type="audio/ogg", queue=False)
        recording_process(stored.recording.pk, stored.recording.generation)
        return 1

    def _contracts(self, tenant, admin) -> None:
        """Agent contracts, so tool-boundary findings and readiness gates have something to show."""
        actor = Actor(user=admin)
        transfer = {"name": "transfer_to_human", "schema": None}
        for agent_key, purpose, tools, escalation in DEMO_CONTRACTS:
            contract_save(
                tenant=tenant,
                agent_key=agent_key,
                purpose=purpose,
                allowed_intents=[],
                allowed_tools=[*tools, transfer] if escalation else tools,
                escalation_rules=escalation or "Never transfer: offer a callback from the front desk.",
                refusal_policy="No medical, legal or financial advice; no changes without verification.",
                actor=actor,
            )
        for agent_key, *_ in DEMO_CONTRACTS:
            for name, kind, config in DEMO_EVALUATORS:
                evaluator_save(
                    tenant=tenant,
                    name=f"{agent_key.removesuffix('-agent')}-{name}",
                    agent_key=agent_key,
                    kind=kind,
                    config=config,
                    actor=actor,
                )
        attestation_record(
            tenant=tenant,
            agent_key="billing-agent",
            prompt_version="v12",
            gate="security_review",
            status="passed",
            owner="security@demo.example",
            evidence="Runtime key is sessions:write only; Twilio signatures verified; redaction on.",
            actor=actor,
        )

    def _fresh_key(self, tenant) -> str:
        """A new demo key each run (keys are shown once); earlier demo keys are revoked."""
        for old in ApiKey.objects.filter(tenant=tenant, name=DEMO_KEY_NAME, revoked_at__isnull=True):
            api_key_revoke(api_key=old)
        _, raw = api_key_create(tenant=tenant, name=DEMO_KEY_NAME, scopes=[s.value for s in DEMO_KEY_SCOPES])
        return raw
