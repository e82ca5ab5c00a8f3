"""Generate N realistic voice sessions for the ``bench`` tenant, straight into PostgreSQL with COPY.

    python -m bench.generate --sessions 1000000

Each session has 6-40 transcript turns (mean ~12) and 0-6 tool calls (mean ~3), one of 8 agents
(skewed, as real traffic is), 2 prompt versions per agent, statuses, tags, QA evaluations on ~10%,
escalations on ~6%, and some call SIDs shared by two streams (a transfer). Start times spread over
one year, and each run writes in chronological order, so the heap is laid out as production's is.

Every column the app reads is filled as the ingest service would fill it: the redacted copies
(``*_redacted``; computed with the app's own redaction for the few PII templates), the
denormalized counts, ``verdict``/``qa_state`` and the full-text ``search_vector``, which
PostgreSQL computes during the load with exactly the expression ``services.records_upsert_many``
uses: ``to_tsvector('english', summary_redacted || ' ' || turn texts joined by ' ')``.

Python generates a chunk while a writer thread (own connection) COPYs the previous one, so the two
cores overlap. Foreign-key triggers are skipped during the load (``session_replication_role =
replica``; the generator builds consistent rows), then the tables are VACUUM ANALYZEd, as
autovacuum would leave them in steady state (the visibility map matters to index-only scans).

Reusable: when the tenant already has N sessions, nothing is written; with fewer, the missing ones
are added (spread over the same year).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import queue
import random
import sys
import threading
import time

import orjson

from bench import TENANT_SLUG

SESSION_TABLE = "sessions_app_voicesession"
TURN_TABLE = "sessions_app_transcriptturn"
CALL_TABLE = "sessions_app_functioncall"
TAG_TABLE = "qa_app_tag"
SESSION_TAG_TABLE = "qa_app_sessiontag"
EVALUATION_TABLE = "qa_app_evaluation"

SESSION_COLUMNS = [
    "id", "stream_id", "call_sid", "agent_key", "status", "qa_state", "direction", "from_number",
    "to_number", "started_at", "ended_at", "model_provider", "model_name", "prompt_version", "model_params",
    "tts_provider", "voice_name", "stt_provider", "language", "escalated", "escalation_reason",
    "escalation_reason_redacted", "escalation_at_ms", "summary", "summary_redacted", "metadata",
    "metadata_redacted", "turn_count", "function_call_count", "failed_function_call_count", "created_at",
    "updated_at", "tenant_id", "purged_at", "verdict",
]  # fmt: skip
TURN_COLUMNS = [
    "tenant_id", "session_id", "seq", "role", "text", "text_redacted", "start_ms", "end_ms", "confidence",
    "interrupted",
]  # fmt: skip
CALL_COLUMNS = [
    "tenant_id", "session_id", "seq", "turn_seq", "name", "arguments", "arguments_redacted", "result",
    "result_redacted", "status", "error", "error_redacted", "latency_ms",
]  # fmt: skip
SESSION_TAG_COLUMNS = ["tenant_id", "session_id", "tag_id", "source", "created_at"]
EVALUATION_COLUMNS = [
    "tenant_id", "session_id", "reviewer_label", "verdict", "score", "failure_categories", "notes",
    "created_at",
]  # fmt: skip
# Columns filled by the database itself (identity ids, the tsvector computed on load).
DATABASE_FILLED = {"id", "search_vector"}

CHUNK = 5_000
YEAR = 365 * 86_400
NULL = "\\N"
# Tool calls per session: 0-6, mean ~3.
CALL_COUNTS = [0, 1, 2, 3, 4, 5, 6]
CALL_COUNT_BOUNDS = [0.10, 0.20, 0.35, 0.60, 0.80, 0.92, 1.0]

# --- the vocabulary -------------------------------------------------------------------------------
# Slots: {order} {amount} {date} {name} {plan} {device}. No tabs, newlines or backslashes (COPY text).

GREETINGS = [
    "Thanks for calling {company}, this is your virtual assistant. How can I help you today?",
    "Hi, you've reached {company}. I can help with orders, billing and appointments. What can I do for you?",
    "Hello and thank you for calling {company}. Who am I speaking with today?",
]
CLOSINGS_AGENT = [
    "Is there anything else I can help you with today?",
    "Thanks for your patience, {name}. You'll get a confirmation by text shortly.",
    "Great, that's all set. Have a wonderful day.",
]
CLOSINGS_CALLER = ["No, that's everything. Thank you.", "That's it, thanks for the help.", "Okay, bye."]
FILLERS_CALLER = [
    "Sorry, can you repeat that?",
    "Yes, that's right.",
    "Hold on, let me find it.",
    "Okay.",
    "My name is {name}.",
]
FILLERS_AGENT = [
    "Let me look that up for you.",
    "One moment while I check.",
    "Thanks, {name}. I have your account up now.",
    "I understand, that's frustrating.",
]

TOPICS = {
    "double_charge": (
        [
            "I was charged twice for order {order}.",
            "There are two charges of {amount} dollars on my card from {date}.",
            "I want a refund for the duplicate payment.",
        ],
        [
            "I see the duplicate charge of {amount} dollars on order {order}.",
            "I've issued a refund for the second charge; it takes three to five business days.",
            "The refund is confirmed and you'll see it on your statement.",
        ],
        "Caller was double charged {amount} dollars on order {order}; duplicate refunded.",
        ["refund", "billing"],
    ),
    "refund_status": (
        ["I'm calling about the refund for order {order}.", "It has been two weeks and no refund yet."],
        [
            "The refund for order {order} was processed on {date}.",
            "Refunds can take up to ten business days to post.",
        ],
        "Caller asked about refund status for order {order}; processed {date}.",
        ["refund"],
    ),
    "update_card": (
        ["I need to update the card on file.", "My old card expired last month."],
        ["I can send you a secure link to update your payment method.", "The link is on its way by text."],
        "Caller updated payment method via secure link.",
        ["billing"],
    ),
    "invoice": (
        ["I have a question about my invoice from {date}.", "Why did my bill go up by {amount} dollars?"],
        [
            "Your {plan} plan renewed on {date}, which explains the difference.",
            "I can email you an itemized invoice.",
        ],
        "Caller questioned invoice increase of {amount} dollars; plan renewal explained.",
        ["billing"],
    ),
    "account_access": (
        ["I can't log into my account.", "It keeps saying my password is wrong."],
        ["I can reset your password and text you a code.", "I've sent the reset code to the number on file."],
        "Caller locked out; password reset code sent.",
        ["account"],
    ),
    "order_status": (
        ["Where is my order {order}?", "It was supposed to arrive on {date}."],
        [
            "Order {order} shipped and is out for delivery today.",
            "The carrier shows a delay; it should arrive by {date}.",
        ],
        "Caller asked for order {order} status; delivery expected {date}.",
        ["order-status"],
    ),
    "upgrade": (
        ["I'm thinking about upgrading to the {plan} plan.", "What does it cost per month?"],
        [
            "The {plan} plan is {amount} dollars a month and includes priority support.",
            "I can switch you today and prorate the difference.",
        ],
        "Caller upgraded to the {plan} plan at {amount} dollars a month.",
        ["sales"],
    ),
    "appointment": (
        ["I'd like to book an appointment for {date}.", "Do you have anything in the morning?"],
        ["I have a nine thirty and an eleven o'clock on {date}.", "You're booked for {date} at nine thirty."],
        "Caller booked an appointment for {date}.",
        ["appointment"],
    ),
    "reschedule": (
        ["I need to reschedule my appointment on {date}.", "Something came up at work."],
        ["No problem, I can move it to next week.", "Your appointment is moved; the old slot is released."],
        "Caller rescheduled the {date} appointment.",
        ["appointment"],
    ),
    "return_item": (
        ["I want to return the {device} from order {order}.", "It stopped working after a week."],
        [
            "I've created a return label for order {order}.",
            "Once we receive the {device} we'll refund {amount} dollars.",
        ],
        "Caller returned a faulty {device} from order {order}; refund on receipt.",
        ["returns", "refund"],
    ),
    "device_setup": (
        ["My new {device} won't connect to wifi.", "The light keeps blinking orange."],
        [
            "Let's try a reset: hold the button for ten seconds.",
            "Now open the app and choose add device.",
        ],
        "Caller set up a {device}; reset fixed the wifi connection.",
        ["tech-support"],
    ),
    "outage": (
        ["My service has been down since this morning.", "Is there an outage in my area?"],
        ["There is a known outage in your area.", "Technicians expect service back by six tonight."],
        "Caller reported an outage; known incident, ETA six pm.",
        ["outage"],
    ),
    "cancel": (
        ["I want to cancel my subscription.", "It's just too expensive for me right now."],
        [
            "I'm sorry to hear that. I can offer three months at half price.",
            "I've applied the discount to your {plan} plan.",
        ],
        "Caller wanted to cancel; retained with a three month discount.",
        ["cancellation"],
    ),
    "chargeback": (
        ["My bank says you filed a chargeback dispute on {order}.", "I never authorized that charge."],
        [
            "I see a chargeback on order {order} for {amount} dollars.",
            "I'm escalating the chargeback to our disputes team.",
        ],
        "Chargeback dispute on order {order} for {amount} dollars; sent to disputes.",
        ["chargeback", "billing"],
    ),
    "callback": (
        ["I'd like someone to call me back tomorrow.", "Any time after ten works."],
        ["Our office is closed, but I've scheduled a callback for tomorrow morning."],
        "After-hours caller requested a callback.",
        ["callback"],
    ),
}

TOOLS = {
    "double_charge": ["lookup_order", "issue_refund", "lookup_account"],
    "refund_status": ["lookup_order", "refund_status"],
    "update_card": ["lookup_account", "send_payment_link"],
    "invoice": ["lookup_account", "get_invoice"],
    "account_access": ["lookup_account", "send_reset_code"],
    "order_status": ["lookup_order", "track_shipment"],
    "upgrade": ["lookup_account", "change_plan"],
    "appointment": ["check_availability", "book_appointment"],
    "reschedule": ["lookup_appointment", "check_availability", "book_appointment"],
    "return_item": ["lookup_order", "create_return_label"],
    "device_setup": ["lookup_device", "run_diagnostics"],
    "outage": ["check_outage", "lookup_account"],
    "cancel": ["lookup_account", "apply_discount"],
    "chargeback": ["lookup_order", "create_ticket", "transfer_call"],
    "callback": ["schedule_callback"],
}

# (agent_key, weight, topics with weights)
AGENTS = [
    ("billing-agent", 30, [("double_charge", 4), ("refund_status", 3), ("update_card", 2), ("invoice", 3)]),
    ("support-agent", 20, [("account_access", 5), ("order_status", 6)]),
    ("sales-agent", 12, [("upgrade", 1)]),
    ("scheduling-agent", 10, [("appointment", 3), ("reschedule", 2)]),
    ("returns-agent", 10, [("return_item", 1)]),
    ("tech-support-agent", 8, [("device_setup", 3), ("outage", 1)]),
    ("retention-agent", 6, [("cancel", 5), ("chargeback", 2)]),
    ("after-hours-agent", 4, [("callback", 1)]),
]
COMPANIES = ["Acme", "Acme Home", "Acme Wireless"]
NAMES = ["Maria", "James", "Priya", "Chen", "Fatima", "Carlos", "Olivia", "Noah", "Aisha", "Liam"]
PLANS = ["Basic", "Plus", "Premium", "Family"]
DEVICES = ["router", "thermostat", "camera", "doorbell", "speaker"]
MODELS = [("openai", "gpt-4o-realtime"), ("openai", "gpt-4o-mini-realtime")]
VOICES = [("elevenlabs", "rachel"), ("cartesia", "sonic-english"), ("elevenlabs", "adam")]
ESCALATION_REASONS = [
    "Caller asked for a human agent.",
    "Caller was upset about repeated charges.",
    "Refund above the automatic approval limit.",
    "Agent could not verify identity.",
]
REVIEWERS = ["qa-alice", "qa-bob", "qa-chen", "api-key:BenchReviewr"]
TAXONOMY = [
    "wrong_tool", "wrong_tool_args", "hallucination", "missed_escalation", "asr_error", "tts_or_latency",
]  # fmt: skip
NOTES = ["", "Good call.", "Should have confirmed the order number first.", "Too slow to escalate."]
ERRORS = ["timeout after 5000 ms", "upstream returned 503", "order not found"]
EXTRA_TAGS = [("follow-up", 0.05), ("vip", 0.02), ("training-example", 0.01)]
# Caller PII, in a few percent of caller turns; the redacted form comes from the app's redaction.
PII_SUFFIXES = [" You can reach me at 415-555-0137.", " My email is maria.lopez@example.com."]


def _check_copy_safe() -> None:
    """COPY text format: the vocabulary must hold no tab, newline or backslash."""
    texts = [*GREETINGS, *CLOSINGS_AGENT, *CLOSINGS_CALLER, *FILLERS_CALLER, *FILLERS_AGENT, *PII_SUFFIXES]
    for caller, agent, summary, _ in TOPICS.values():
        texts += [*caller, *agent, summary]
    texts += [*ESCALATION_REASONS, *NOTES, *ERRORS]
    bad = [text for text in texts if any(char in text for char in "\t\n\r\\")]
    if bad:
        raise ValueError(f"not COPY-safe: {bad[0]!r}")


def _cumulative(weights: list[tuple]) -> tuple[list, list[float]]:
    total = sum(weight for *_, weight in weights)
    values, bounds, running = [], [], 0.0
    for *value, weight in weights:
        running += weight / total
        values.append(value[0] if len(value) == 1 else tuple(value))
        bounds.append(running)
    bounds[-1] = 1.0
    return values, bounds


def _pick(rng_value: float, values: list, bounds: list[float]):
    for value, bound in zip(values, bounds, strict=True):
        if rng_value < bound:
            return value
    return values[-1]


class Generator:
    """Builds COPY text for chunks of sessions. Deterministic for a given seed and index range."""

    def __init__(self, *, tenant_id: int, tag_ids: dict[str, int], start: float, span: float, seed: int):
        from sessions_app.redaction import redact_text, redact_value

        _check_copy_safe()
        self.tenant = str(tenant_id)
        self.tag_ids = tag_ids
        self.start = start
        self.span = span
        self.seed = seed
        self.pii = [(suffix, redact_text(suffix)) for suffix in PII_SUFFIXES]
        account_args = {"phone": "+14155550137"}
        self.account_args = (
            orjson.dumps(account_args).decode(),
            orjson.dumps(redact_value(account_args)).decode(),
        )
        agents = [(key, weight) for key, weight, _ in AGENTS]
        self.agent_values, self.agent_bounds = _cumulative(agents)
        self.topics = {key: _cumulative(topics) for key, _, topics in AGENTS}

    @staticmethod
    def stamp(epoch: float) -> str:
        return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()

    def chunk(self, first: int, count: int, *, run_first: int, total: int) -> dict[str, list[str]]:
        """COPY lines for sessions ``first .. first+count-1`` of a run of ``total`` sessions that
        began at ``run_first``. The k-th session of the run starts at start + (k + u) * span / total,
        so each run is chronological and spans the whole year.
        """
        rng = random.Random(self.seed * 1_000_003 + first)
        rand, getrandbits, expovariate = rng.random, rng.getrandbits, rng.expovariate

        # random.randint/choice cost ~2 us each through several Python frames; these ~0.2 us.
        def randint(low: int, high: int) -> int:
            return low + int(rand() * (high - low + 1))

        def choice(values):
            return values[int(rand() * len(values))]

        stamp, tenant, pii, tag_ids = self.stamp, self.tenant, self.pii, self.tag_ids
        sessions, turns, calls, tags, evaluations = [], [], [], [], []
        step = self.span / total
        previous_call_sid = None
        for index in range(first, first + count):
            bits = getrandbits(128)
            hex32 = f"{bits:032x}"
            session_id = f"{hex32[:8]}-{hex32[8:12]}-4{hex32[13:16]}-a{hex32[17:20]}-{hex32[20:32]}"
            stream_id = f"MZ{index:032x}"
            if previous_call_sid and rand() < 0.04:
                call_sid = previous_call_sid  # a transfer: the same call, a second stream
            else:
                call_sid = f"CA{getrandbits(128):032x}"
            previous_call_sid = call_sid
            agent = _pick(rand(), self.agent_values, self.agent_bounds)
            topic = _pick(rand(), *self.topics[agent])
            caller_lines, agent_lines, summary_template, topic_tags = TOPICS[topic]
            position = index - run_first
            started = self.start + (position + rand()) * step
            slots = {
                "company": choice(COMPANIES),
                "order": str(randint(10_000, 99_999)),
                "amount": str(randint(9, 450)),
                "date": dt.date.fromtimestamp(started + randint(-20, 20) * 86_400).strftime("%B %d"),
                "name": choice(NAMES),
                "plan": choice(PLANS),
                "device": choice(DEVICES),
            }
            turn_count = min(40, 6 + int(expovariate(1 / 6.2)))
            texts = []
            elapsed = 0
            for seq in range(turn_count):
                if seq == 0:
                    role, text = "agent", choice(GREETINGS)
                elif seq == turn_count - 1:
                    role, text = "agent", choice(CLOSINGS_AGENT)
                elif seq == turn_count - 2:
                    role, text = "caller", choice(CLOSINGS_CALLER)
                elif seq % 2:
                    role = "caller"
                    text = choice(caller_lines) if rand() < 0.6 else choice(FILLERS_CALLER)
                else:
                    role = "agent"
                    text = choice(agent_lines) if rand() < 0.6 else choice(FILLERS_AGENT)
                text = text.format_map(slots)
                redacted = text
                if role == "caller" and rand() < 0.03:
                    suffix, suffix_redacted = choice(pii)
                    text, redacted = text + suffix, redacted + suffix_redacted
                texts.append(redacted)
                begin = elapsed + randint(200, 900)
                elapsed = begin + randint(1_200, 6_000)
                turns.append(
                    f"{tenant}\t{session_id}\t{seq}\t{role}\t{text}\t{redacted}\t{begin}\t{elapsed}\t"
                    f"{f'{0.78 + rand() * 0.22:.3f}' if role == 'caller' else NULL}\t"
                    f"{'t' if rand() < 0.05 else 'f'}\n"
                )
            roll = rand()
            call_count = _pick(roll, CALL_COUNTS, CALL_COUNT_BOUNDS)
            failed = 0
            tools = TOOLS[topic]
            for seq in range(call_count):
                name = tools[seq % len(tools)]
                if name == "lookup_account":
                    arguments, arguments_redacted = self.account_args
                else:
                    arguments = arguments_redacted = f'{{"order_id":"{slots["order"]}","attempt":{seq + 1}}}'
                if rand() < 0.05:
                    failed += 1
                    error = choice(ERRORS)
                    calls.append(
                        f"{tenant}\t{session_id}\t{seq}\t{min(turn_count - 1, 2 + seq * 2)}\t{name}\t"
                        f"{arguments}\t{arguments_redacted}\t{NULL}\t{NULL}\tfailed\t{error}\t{error}\t"
                        f"{randint(2_000, 5_000)}\n"
                    )
                else:
                    result = f'{{"ok":true,"reference":"R{slots["order"]}{seq}","amount":{slots["amount"]}}}'
                    calls.append(
                        f"{tenant}\t{session_id}\t{seq}\t{min(turn_count - 1, 2 + seq * 2)}\t{name}\t"
                        f"{arguments}\t{arguments_redacted}\t{result}\t{result}\tsucceeded\t{NULL}\t{NULL}\t"
                        f"{randint(60, 1_800)}\n"
                    )
            roll = rand()
            status = "failed" if roll < 0.07 else "active" if roll < 0.09 else "completed"
            ended = None if status == "active" else started + elapsed / 1000 + randint(1, 8)
            escalated = rand() < 0.06
            if escalated:
                reason = choice(ESCALATION_REASONS)
                escalation = f"t\t{reason}\t{reason}\t{randint(10_000, max(10_001, elapsed))}"
            else:
                escalation = f"f\t{NULL}\t{NULL}\t{NULL}"
            roll = rand()
            qa_state = "reviewed" if roll < 0.10 else "in_review" if roll < 0.12 else "unreviewed"
            created = stamp(ended or started + 5)
            updated = created
            verdict = ""
            if qa_state == "reviewed":
                reviewed_at = (ended or started) + randint(3_600, 14 * 86_400)
                for _ in range(2 if rand() < 0.12 else 1):
                    roll = rand()
                    verdict, score = (
                        ("pass", randint(4, 5)) if roll < 0.6 else
                        ("needs_work", 3) if roll < 0.85 else
                        ("fail", randint(1, 2))
                    )  # fmt: skip
                    categories = "[]" if verdict == "pass" else orjson.dumps([choice(TAXONOMY)]).decode()
                    updated = stamp(reviewed_at)
                    evaluations.append(
                        f"{tenant}\t{session_id}\t{choice(REVIEWERS)}\t{verdict}\t{score}\t{categories}\t"
                        f"{choice(NOTES)}\t{updated}\n"
                    )
                    reviewed_at += randint(600, 86_400)
            session_tags = [name for name in topic_tags if rand() < 0.4]
            if escalated and rand() < 0.7:
                session_tags.append("escalation")
            for name, probability in EXTRA_TAGS:
                if rand() < probability:
                    session_tags.append(name)
            language = "es-US" if rand() < 0.08 else "en-US"
            if language == "es-US" and rand() < 0.5:
                session_tags.append("spanish")
            for name in dict.fromkeys(session_tags):
                tags.append(f"{tenant}\t{session_id}\t{tag_ids[name]}\tingest\t{created}\n")
            summary = summary_template.format_map(slots)
            model_provider, model_name = MODELS[0] if rand() < 0.8 else MODELS[1]
            tts, voice = VOICES[randint(0, 2)]
            # Two prompt versions per agent: v12 rolls out over the year.
            prompt = "v12" if rand() < position / total else "v11"
            metadata = f'{{"campaign":"{topic}","region":"{choice(("us-east", "us-west", "us-central"))}"}}'
            inbound = rand() < 0.8
            caller_number = f"+1415555{randint(1000, 9999)}"
            office_number = "+14155550100"
            search_text = " ".join([summary, *texts])
            row = (
                session_id, stream_id, call_sid, agent, status, qa_state,
                "inbound" if inbound else "outbound",
                caller_number if inbound else office_number,
                office_number if inbound else caller_number,
                stamp(started), NULL if ended is None else stamp(ended),
                model_provider, model_name, prompt, '{"temperature":0.7}',
                tts, voice, "deepgram-nova-3", language, escalation,
                summary, summary, metadata, metadata,
                str(turn_count), str(call_count), str(failed),
                created, updated, tenant, NULL, verdict, search_text,
            )  # fmt: skip
            sessions.append("\t".join(row) + "\n")
        return {
            "sessions": sessions,
            "turns": turns,
            "calls": calls,
            "tags": tags,
            "evaluations": evaluations,
        }


def _all_tag_names() -> list[str]:
    names = {name for *_, topic_tags in TOPICS.values() for name in topic_tags}
    names |= {"escalation", "spanish", *(name for name, _ in EXTRA_TAGS)}
    return sorted(names)


def _check_columns(cursor, table: str, filled: list[str]) -> None:
    """Refuse to load when the table has a NOT NULL column without a default the generator misses."""
    cursor.execute(
        """
        SELECT column_name FROM information_schema.columns
        WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL
          AND is_identity = 'NO'
        """,
        [table],
    )
    missing = sorted({row[0] for row in cursor.fetchall()} - set(filled) - DATABASE_FILLED)
    if missing:
        raise SystemExit(f"bench.generate: {table} has NOT NULL columns left unfilled: {missing}")


def _columns(names: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


class Writer(threading.Thread):
    """Takes chunks off a queue and COPYs each in one transaction, on its own connection."""

    def __init__(self, conninfo: str, chunks: queue.Queue, progress):
        super().__init__(daemon=True)
        self.conninfo, self.chunks, self.progress = conninfo, chunks, progress
        self.error: BaseException | None = None
        self.rows = {"sessions": 0, "turns": 0, "calls": 0, "tags": 0, "evaluations": 0}
        self.seconds = dict.fromkeys(self.rows, 0.0)

    def run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.conninfo) as connection:
                connection.execute("SET synchronous_commit = off")
                try:
                    # Skip FK triggers for the load (the rows are consistent by construction).
                    connection.execute("SET session_replication_role = replica")
                except psycopg.Error:
                    connection.rollback()
                connection.execute(
                    f"CREATE TEMP TABLE bench_session_stage AS SELECT {_columns(SESSION_COLUMNS)}, "
                    f"''::text AS search_text FROM {SESSION_TABLE} WITH NO DATA"
                )
                connection.commit()
                while True:
                    chunk = self.chunks.get()
                    if chunk is None:
                        return
                    self.write(connection, chunk)
        except BaseException as error:  # reported by the main thread
            self.error = error
            while self.chunks.get() is not None:  # unblock the producer
                pass

    def write(self, connection, chunk: dict[str, list[str]]) -> None:
        targets = [
            ("sessions", "bench_session_stage", [*SESSION_COLUMNS, "search_text"]),
            ("turns", TURN_TABLE, TURN_COLUMNS),
            ("calls", CALL_TABLE, CALL_COLUMNS),
            ("tags", SESSION_TAG_TABLE, SESSION_TAG_COLUMNS),
            ("evaluations", EVALUATION_TABLE, EVALUATION_COLUMNS),
        ]
        with connection.cursor() as cursor:
            for key, table, columns in targets:
                began = time.perf_counter()
                lines = chunk[key]
                if lines:
                    with cursor.copy(f"COPY {table} ({_columns(columns)}) FROM STDIN") as copy:
                        copy.write("".join(lines))
                self.rows[key] += len(lines)
                if key == "sessions":
                    # The same expression as services.records_upsert_many's SearchVector.
                    cursor.execute(
                        f"INSERT INTO {SESSION_TABLE} ({_columns(SESSION_COLUMNS)}, search_vector) "
                        f"SELECT {_columns(SESSION_COLUMNS)}, "
                        "to_tsvector('english'::regconfig, COALESCE(search_text, '')) "
                        "FROM bench_session_stage"
                    )
                    cursor.execute("TRUNCATE bench_session_stage")
                self.seconds[key] += time.perf_counter() - began
        connection.commit()
        self.progress.update(len(chunk["sessions"]))


def ensure(sessions: int, *, seed: int = 20_260_101, quiet: bool = False) -> dict:
    """Make the bench tenant hold at least ``sessions`` sessions. Django must be set up.

    Returns a summary: existing, generated, seconds, rows per table.
    """
    from django.core.management import call_command
    from django.db import connection
    from django.db.models.functions import TruncDate
    from tqdm import tqdm

    from bench.env import conninfo
    from qa_app.models import Tag
    from sessions_app import changes
    from sessions_app.models import Tenant, VoiceSession
    from sessions_app.services import tenant_create

    call_command("migrate", interactive=False, verbosity=0)
    tenant = Tenant.objects.filter(slug=TENANT_SLUG).first() or tenant_create(
        slug=TENANT_SLUG, name="Benchmark tenant"
    )
    existing = VoiceSession.objects.filter(tenant=tenant).count()
    summary = {"tenant_id": tenant.pk, "existing": existing, "generated": 0, "seconds": 0.0}
    if existing >= sessions:
        if not quiet:
            print(f"bench.generate: {TENANT_SLUG!r} has {existing:,} sessions (>= {sessions:,}); skipping")
        return summary

    with connection.cursor() as cursor:
        for table, columns in [
            (SESSION_TABLE, SESSION_COLUMNS),
            (TURN_TABLE, TURN_COLUMNS),
            (CALL_TABLE, CALL_COLUMNS),
            (SESSION_TAG_TABLE, SESSION_TAG_COLUMNS),
            (EVALUATION_TABLE, EVALUATION_COLUMNS),
        ]:
            _check_columns(cursor, table, columns)
        # Continue numbering after the generator's own stream ids (MZ + 32 hex digits).
        cursor.execute(
            f"SELECT max(stream_id), max(started_at) FROM {SESSION_TABLE} "
            "WHERE tenant_id = %s AND stream_id ~ '^MZ[0-9a-f]{32}$'",
            [tenant.pk],
        )
        last_stream, last_started = cursor.fetchone()
    first = int(last_stream[2:], 16) + 1 if last_stream else 0
    Tag.objects.bulk_create(
        [Tag(tenant=tenant, name=name) for name in _all_tag_names()], ignore_conflicts=True
    )
    tag_ids = dict(Tag.objects.filter(tenant=tenant).values_list("name", "pk"))
    end = last_started.timestamp() if last_started else time.time() // 60 * 60
    missing = sessions - existing
    generator = Generator(tenant_id=tenant.pk, tag_ids=tag_ids, start=end - YEAR, span=YEAR, seed=seed)

    print(f"bench.generate: writing {missing:,} sessions for tenant {TENANT_SLUG!r} (has {existing:,})")
    began = time.perf_counter()
    chunks: queue.Queue = queue.Queue(maxsize=2)
    with tqdm(total=missing, unit="session", unit_scale=True, disable=quiet, file=sys.stdout) as progress:
        writer = Writer(conninfo(os.environ["DATABASE_URL"]), chunks, progress)
        writer.start()
        generated_at = 0.0
        for offset in range(0, missing, CHUNK):
            count = min(CHUNK, missing - offset)
            started = time.perf_counter()
            chunk = generator.chunk(first + offset, count, run_first=first, total=missing)
            generated_at += time.perf_counter() - started
            if writer.error is not None:
                break
            chunks.put(chunk)
        chunks.put(None)
        writer.join()
    if writer.error is not None:
        raise writer.error
    load_seconds = time.perf_counter() - began
    # COPY bypasses the services, which mark the days they write stale for the dashboard rollups.
    changes.mark_days_changed(
        tenant.pk,
        VoiceSession.objects.filter(tenant=tenant)
        .annotate(day=TruncDate("started_at", tzinfo=dt.UTC))
        .values_list("day", flat=True)
        .distinct()
        .order_by(),
    )

    print("bench.generate: VACUUM ANALYZE (visibility map and planner statistics)")
    vacuum_began = time.perf_counter()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        for table in (SESSION_TABLE, TURN_TABLE, CALL_TABLE, SESSION_TAG_TABLE, EVALUATION_TABLE, TAG_TABLE):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute("ANALYZE")
    summary.update(
        generated=missing,
        seconds=round(load_seconds, 1),
        python_seconds=round(generated_at, 1),
        vacuum_seconds=round(time.perf_counter() - vacuum_began, 1),
        rows=writer.rows,
        write_seconds={key: round(value, 1) for key, value in writer.seconds.items()},
        sessions_per_second=round(missing / load_seconds),
        python_sessions_per_second=round(missing / generated_at) if generated_at else None,
    )
    print(
        f"bench.generate: {missing:,} sessions in {load_seconds:.0f} s "
        f"({summary['sessions_per_second']:,}/s end to end; Python alone "
        f"{summary['python_sessions_per_second']:,}/s); rows: {writer.rows}; "
        f"COPY seconds: {summary['write_seconds']}"
    )
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000, help="target count (default 100,000)")
    parser.add_argument("--seed", type=int, default=20_260_101)
    args = parser.parse_args(argv)
    from bench.env import setup_django

    setup_django()
    ensure(args.sessions, seed=args.seed)


if __name__ == "__main__":
    main()
