"""Load the demo: a tenant with realistic sessions, three users (one per role) and an API key."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from qa_app.services import evaluation_record
from sessions_app.actors import SYSTEM, Actor
from sessions_app.api.serializers import VoiceSessionSerializer
from sessions_app.demo_sessions import generate_demo_sessions
from sessions_app.models import ApiKey, Scope, Tenant
from sessions_app.roles import ADMIN, ANALYST, VIEWER
from sessions_app.services import (
    api_key_create,
    api_key_revoke,
    member_set_role,
    session_upsert,
    tenant_create,
)

DEMO_TENANT = "demo"
DEMO_KEY_NAME = "demo key (seed_demo)"
DEMO_USERS = {
    "analyst": (ANALYST, "analyst-demo-pass"),
    "admin": (ADMIN, "admin-demo-pass"),
    "viewer": (VIEWER, "viewer-demo-pass"),
}
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
            self._sessions(tenant, users, count=sessions, seed=seed)
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
        for index, item in enumerate(demo, start=1):
            serializer = VoiceSessionSerializer(data=item.payload)
            serializer.is_valid(raise_exception=True)
            session = session_upsert(tenant=tenant, data=serializer.validated_data, actor=SYSTEM).session
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

    def _fresh_key(self, tenant) -> str:
        """A new demo key each run (keys are shown once); earlier demo keys are revoked."""
        for old in ApiKey.objects.filter(tenant=tenant, name=DEMO_KEY_NAME, revoked_at__isnull=True):
            api_key_revoke(api_key=old)
        _, raw = api_key_create(tenant=tenant, name=DEMO_KEY_NAME, scopes=[s.value for s in DEMO_KEY_SCOPES])
        return raw
