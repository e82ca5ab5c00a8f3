"""Import sessions from a JSON Lines file (or stdin), upserting by stream_id."""

import contextlib
import os
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from config.runtime import garbage_collection_tuned
from qa_app.imports import DEFAULT_BATCH_SIZE, sessions_import
from sessions_app.models import Tenant


class Command(BaseCommand):
    help = (
        "Import one session per line (the API's POST shape) from FILE.jsonl, or - for stdin. Reruns change "
        "nothing. Bad lines are reported with their number and field, good ones kept; exits 1 if any was bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .jsonl file, or - for stdin.")
        parser.add_argument("--tenant", required=True, help="Tenant slug.")
        parser.add_argument("--strict", action="store_true", help="Stop at the first bad line.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument(
            "--workers",
            type=int,
            default=min(2, os.cpu_count() or 1),
            help="Processes that parse, validate and redact while this one writes (0 or 1: none).",
        )

    def handle(self, *args, file, tenant, strict, batch_size, workers, **options):
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        progress = tqdm(unit=" lines", file=sys.stderr, disable=None, dynamic_ncols=True, smoothing=0.1)

        def on_error(error):
            progress.write(str(error), file=self.stderr)

        # Tuned before the workers fork, so they share the frozen objects too.
        with contextlib.ExitStack() as stack, progress, garbage_collection_tuned():
            try:
                stream = sys.stdin if file == "-" else stack.enter_context(open(file, encoding="utf-8"))
            except OSError as error:
                raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
            report = sessions_import(
                tenant=found,
                lines=stream,
                strict=strict,
                batch_size=batch_size,
                workers=workers,
                on_line=lambda: progress.update(1),
                on_error=on_error,
            )
        rate = progress.format_dict.get("rate") or 0
        self.stderr.write(
            f"Imported {report.imported} session(s) into {found.slug}: {report.created} created, "
            f"{report.updated} updated; {len(report.errors)} bad line(s)"
            + (f"; {rate:,.0f} lines/s." if rate else ".")
        )
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} bad line(s); first: {report.errors[0]}"
                + (" (stopped: --strict)" if strict else ""),
                returncode=1,
            )
