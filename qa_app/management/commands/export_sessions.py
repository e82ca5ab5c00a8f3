"""Export a tenant's sessions from the command line: the same filters, redaction and audit as the API."""

import contextlib
import sys

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict
from tqdm import tqdm

from qa_app.export import FORMATS, sessions_export
from qa_app.filters import VoiceSessionFilterSet
from sessions_app.actors import SYSTEM
from sessions_app.models import Tenant
from sessions_app.selectors import sessions_for

FILTER_OPTIONS = {
    "status": "status",
    "stream_id": "stream-id",
    "call_sid": "call-sid",
    "agent_key": "agent-key",
    "qa_state": "qa-state",
    "started_after": "started-after",
    "started_before": "started-before",
    "escalated": "escalated",
    "q": "q",
}


class Command(BaseCommand):
    help = "Stream a tenant's sessions as JSON Lines or CSV to stdout or a file, with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Tenant slug.")
        parser.add_argument("--format", choices=FORMATS, default="jsonl")
        parser.add_argument("--raw", action="store_true", help="Unredacted text (audited as a raw export).")
        parser.add_argument("--output", "-o", default="-", help="A file path, or - for stdout (default).")
        parser.add_argument("--batch-size", type=int, default=500)
        for name, option in FILTER_OPTIONS.items():
            parser.add_argument(f"--{option}", dest=name, default=None, help=f"The list's {name} filter.")
        parser.add_argument("--tag", action="append", default=[], help="Repeatable: all must match.")

    def handle(self, *args, tenant, format, raw, output, batch_size, tag, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        params = QueryDict(mutable=True)
        for name in FILTER_OPTIONS:
            if options.get(name) is not None:
                params[name] = options[name]
        params.setlist("tag", tag)
        filterset = VoiceSessionFilterSet(params, queryset=sessions_for(tenant=found))
        if not filterset.is_valid():
            field, errors = next(iter(filterset.errors.items()))
            raise CommandError(f"--{FILTER_OPTIONS.get(field, field)}: {' '.join(errors)}")
        queryset = filterset.qs
        total = queryset.count()
        chunks = sessions_export(
            tenant=found,
            actor=SYSTEM,
            queryset=queryset,
            raw=raw,
            export_format=format,
            filters={key: params.getlist(key) for key in params if params.getlist(key)},
            batch_size=batch_size,
        )
        progress = tqdm(total=total, unit="session", file=sys.stderr, disable=None, dynamic_ncols=True)
        with contextlib.ExitStack() as stack, progress:
            stream = sys.stdout.buffer if output == "-" else stack.enter_context(open(output, "wb"))
            for index, chunk in enumerate(chunks):
                stream.write(chunk)
                if format == "jsonl" or index > 0:  # a CSV's first chunk is its header
                    progress.update(min(batch_size, total - progress.n))
            stream.flush()
        self.stderr.write(
            f"Exported {total} session(s) of {found.slug} as {format}" + (" (raw)" if raw else "")
        )
