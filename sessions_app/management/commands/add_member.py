from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sessions_app.errors import ServiceError
from sessions_app.models import Tenant
from sessions_app.roles import ROLES
from sessions_app.services import member_add


class Command(BaseCommand):
    help = "Create the user if needed and give them a role in a tenant."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--tenant", required=True, help="Tenant slug.")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--password", default=None, help="Sets the password (new or existing user).")
        parser.add_argument("--email", default="")

    @transaction.atomic
    def handle(self, *args, username, tenant, role, password, email, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        try:
            added = member_add(tenant=found, username=username, role=role, password=password, email=email)
        except ServiceError as error:
            raise CommandError(error.message) from None
        if password and not added.created:  # the operator may reset anyone's password; a page may not
            added.user.set_password(password)
            added.user.save(update_fields=["password"])
        what = "Created user" if added.created else "User"
        change = f"now {role}" if added.changed else f"already {role}"
        self.stdout.write(f"{what} {username}: {change} in {found.slug}.")
