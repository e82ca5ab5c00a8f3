"""Demo data for ``seed_demo``: a month of realistic calls to three voice agents, and QA reviews.

``generate_demo_sessions`` returns API POST payloads (exactly what a client sends to
``/api/v1/voice-sessions``) plus, for about 45% of the completed calls, the review a QA analyst would
have written. Everything comes from one ``random.Random(seed)``, so a seed and ``now`` always give the
same list.

What the demo is meant to show
------------------------------
* Three agents (billing, scheduling, support), each on two prompt versions (v11, then v12 rolled out
  about two weeks before ``now``) and two models. Billing v12 restated the refund rules and makes far
  fewer wrong-amount refunds and over-limit refunds than v11; support v12 is friendlier but transfers
  simple questions more often (an "unnecessary_escalation" regression); the mini model makes
  mistakes about a third more often than gpt-4o-realtime.
* Calls are built from scenario scripts with variation: orders, double charges, refunds, appointments,
  password resets, deliveries; angry callers, callers barging in (the agent's turn is cut with "—",
  marked ``interrupted`` and overlaps the caller's), low-confidence speech recognition, silences,
  callers asking for a human, slow responses.
* Tool calls carry realistic arguments and results; some fail with an upstream error and a high
  latency, and a few are wrong (a refund amount that does not match the order, the wrong tool).
* About 30% of calls contain PII in caller turns, written and spoken ("four one five, five five five
  ...", "jane dot doe at gmail dot com", Luhn-valid test cards, format-valid SSNs), so redaction can
  be seen at work. Exactly one call carries an XSS sample in a caller turn and in a tool result.
* Reviews agree with what happened: a hallucinated refund is a fail with "hallucination", a clean call
  is a pass scored 4-5.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

from qa_app.models import DEFAULT_FAILURE_CATEGORIES

AGENTS = ("billing-agent", "scheduling-agent", "support-agent")
PROMPT_VERSIONS = ("v11", "v12")
MODELS = ("gpt-4o-realtime", "gpt-4o-mini-realtime")
VERDICTS = ("pass", "fail", "needs_work")
# The default taxonomy every tenant is given (qa_app.models), not a copy of it.
FAILURE_CATEGORIES = tuple(name for name, *_ in DEFAULT_FAILURE_CATEGORIES)
REVIEWERS = ("analyst", "admin")
XSS_SCRIPT = "<script>alert('xss')</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
REFUND_LIMIT = 150.00  # the billing agent may refund up to this much without a human
WINDOW_DAYS = 30
V12_ROLLOUT_DAYS_AGO = 16

try:
    from zoneinfo import ZoneInfo

    _LOCAL = ZoneInfo("America/New_York")  # the demo company's call centre hours
except (ImportError, KeyError):  # pragma: no cover - no tz database on the host
    _LOCAL = dt.timezone(dt.timedelta(hours=-5))

# Calls per local hour (weekdays); weekends get a third of it.
_HOUR_WEIGHTS = [
    0.04, 0.03, 0.02, 0.02, 0.02, 0.05, 0.15, 0.45, 0.95, 1.5, 1.6, 1.55,
    1.3, 1.45, 1.5, 1.4, 1.2, 0.95, 0.6, 0.45, 0.35, 0.25, 0.12, 0.06,
]  # fmt: skip
_WEEKEND_WEIGHT = 0.35


@dataclass(frozen=True)
class DemoReview:
    verdict: str  # "pass" | "fail" | "needs_work"
    score: int  # 1..5
    failure_categories: list[str]  # from FAILURE_CATEGORIES; empty for "pass"
    notes: str
    reviewer: str  # "analyst" or "admin" (usernames seed_demo creates)


@dataclass(frozen=True)
class DemoSession:
    payload: dict  # the API POST shape, JSON-ready
    review: DemoReview | None


# --------------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------------

_FIRST_NAMES = [
    "Jane", "Marcus", "Priya", "Dana", "Luis", "Aisha", "Tom", "Mei", "Grace", "Omar", "Elena", "Ben",
    "Sofia", "Derek", "Hannah", "Kwame", "Rosa", "Nate", "Ingrid", "Carlos", "Fatima", "Jordan", "Leah",
]  # fmt: skip
_LAST_NAMES = [
    "Doe", "Lee", "Patel", "Whitfield", "Garcia", "Khan", "Brennan", "Chen", "Okafor", "Haddad", "Novak",
    "Schultz", "Rossi", "Mensah", "Alvarez", "Larsen", "Kim", "Murphy", "Silva", "Cohen", "Nguyen",
]  # fmt: skip
_EMAIL_DOMAINS = ["gmail", "yahoo", "outlook", "icloud", "hotmail"]
_AREA_CODES = ["415", "212", "312", "617", "206", "512", "303", "646", "718", "702", "404", "213"]
# Luhn-valid test card numbers, grouped as people read them.
_TEST_CARDS = [
    "4111 1111 1111 1111",
    "4242 4242 4242 4242",
    "5555 5555 5555 4444",
    "5105 1051 0510 5100",
    "4012 8888 8888 1881",
    "6011 1111 1111 1117",
    "3782 822463 10005",
]
_DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

_AGENT_CONFIG = {
    "billing-agent": {
        "brand": "Acme billing",
        "persona": "Max",
        "line": "+18885550100",
        "queue": "billing-tier2",
        "voices": [("elevenlabs", "rachel"), ("elevenlabs", "adam")],
        "campaigns": ["inbound-billing"],
    },
    "scheduling-agent": {
        "brand": "Brightside Clinic",
        "persona": "Ava",
        "line": "+18885550142",
        "queue": "front-desk",
        "voices": [("cartesia", "sonic-sarah"), ("elevenlabs", "bella")],
        "campaigns": ["inbound-scheduling"],
    },
    "support-agent": {
        "brand": "Acme support",
        "persona": "Sam",
        "line": "+18885550177",
        "queue": "support-tier2",
        "voices": [("elevenlabs", "josh"), ("cartesia", "sonic-mark")],
        "campaigns": ["inbound-support", "inbound-support", "spring-sale"],
    },
}
_AGENT_WEIGHTS = [0.38, 0.27, 0.35]

# (name, price) of things people order from Acme.
_ITEMS = [
    ("wireless headphones", 49.99),
    ("phone case", 24.99),
    ("blender", 74.99),
    ("coffee grinder", 89.50),
    ("running shoes", 119.95),
    ("smart thermostat", 129.99),
    ("winter jacket", 159.00),
    ("air purifier", 189.00),
    ("office chair", 249.00),
    ("standing desk", 329.00),
]
_SERVICES = [
    ("dental cleaning", "dental_cleaning"),
    ("checkup", "annual_checkup"),
    ("consultation", "consultation"),
    ("follow-up visit", "follow_up"),
]
_LOCATIONS = ["downtown", "Northgate", "Eastside"]
_CARRIERS = [("UPS", "1Z", 16), ("FedEx", "7", 11), ("USPS", "9400", 18)]
_SCAN_CITIES = ["Memphis, TN", "Louisville, KY", "Columbus, OH", "Reno, NV", "Dallas, TX", "Newark, NJ"]

_UPSTREAM = {
    "lookup_order": "orders-service",
    "issue_refund": "payments-service",
    "check_availability": "scheduling-api",
    "book_appointment": "scheduling-api",
    "cancel_appointment": "scheduling-api",
    "reset_password": "accounts-service",
    "lookup_account": "accounts-service",
    "track_shipment": "carrier-tracking",
    "transfer_to_human": "contact-center",
}
_UPSTREAM_ERRORS = [
    "upstream 504 from {service}",
    "timeout after 8000 ms waiting for {service}",
    "502 Bad Gateway from {service}",
    "connection reset by {service}",
    "503 Service Unavailable from {service}, retry after 2s",
]

# A scenario's first sentence as the recognizer misheard it, the agent's check, and the caller's answer.
_MUMBLED_OPENERS = {
    "_billing_double_charge": (
        "Hi, I was charged to ice for my order.",
        "Sorry, did you say you were charged twice?",
        "Yes, twice. For the same order.",
    ),
    "_billing_refund": (
        "Hi, I'd like a ree fund for my order.",
        "Sorry, I didn't catch that. Is this about a refund?",
        "Yes, a refund, please.",
    ),
    "_billing_charge_question": (
        "There's a charge on my card I don't wreck a nice.",
        "Sorry, is this about a charge you don't recognize?",
        "Yes, exactly.",
    ),
    "_scheduling_book": (
        "Hi, I need to make a pointment for my tea.",
        "Sorry, I didn't catch that. Would you like to book an appointment?",
        "Yes, an appointment.",
    ),
    "_scheduling_reschedule": (
        "I need to re shed you'll my visit.",
        "Sorry, did you say you'd like to reschedule?",
        "Yes, reschedule, please.",
    ),
    "_scheduling_cancel": (
        "I need to can sell my appointment.",
        "Sorry, did you want to cancel an appointment?",
        "Yes, cancel it, please.",
    ),
    "_support_password": (
        "I can't log in to my a count.",
        "Sorry, could you repeat that? Is this about your account?",
        "Yes, my account. I can't log in.",
    ),
    "_support_account": (
        "I have a quick question about my a count.",
        "Sorry, could you repeat that? Is this about your account?",
        "Yes, my account.",
    ),
    "_support_shipping": (
        "Hi, I'm trying to track a pack itch.",
        "Sorry, did you say you're tracking a package?",
        "Yes, a package.",
    ),
}
_GARBLED = [
    "I need to uh [inaudible] the one from last",
    "yeah it's the fur tea nine won for the",
    "can you hear me I'm in the car it's the",
    "the... the one from Tuesday the uh sorry",
    "no the oh never mind the account thing",
]


# --------------------------------------------------------------------------------------------------
# The call builder: turns, tool calls and timing
# --------------------------------------------------------------------------------------------------


class _CallOver(Exception):
    """Raised by a script step that ends the conversation (transfer, hang-up, dead air)."""

    def __init__(self, *, closing: bool = False):
        super().__init__()
        self.closing = closing


@dataclass
class _Person:
    first: str
    last: str
    phone: str  # ten digits
    email_local: str
    email_spoken_local: str
    email_domain: str
    card: str
    ssn: str

    @property
    def email(self) -> str:
        return f"{self.email_local}@{self.email_domain}.com"

    @property
    def email_spoken(self) -> str:
        return f"{self.email_spoken_local} at {self.email_domain} dot com"

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass
class _Issue:
    category: str
    major: bool  # a fail when major, needs_work otherwise
    note: str


@dataclass
class _Call:
    rng: random.Random
    agent_key: str
    version: str
    model: str
    person: _Person
    started_local: dt.datetime
    issue: str | None = None  # the scripted mistake, if any
    angry: bool = False
    interrupts: bool = False
    laggy: bool = False
    pii: str | None = None
    xss: bool = False
    outbound: bool = False
    topic: str = ""  # what the call is about, for summaries ("a double charge on order 58213")
    turns: list[dict] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)
    call_times: list[int] = field(default_factory=list)  # when each tool call was made (ms)
    clock: int = 0
    pending_ms: int = 0
    last_caller_seq: int | None = None
    issues: list[_Issue] = field(default_factory=list)
    good: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    summary: str = ""
    escalation: tuple[str, int] | None = None
    outage: bool = False  # an upstream failure already happened on this call
    vented: bool = False
    mumble_opening: bool = False

    # -- helpers -----------------------------------------------------------------------------------

    def pick(self, options):
        return options[self.rng.randrange(len(options))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    @property
    def config(self) -> dict:
        return _AGENT_CONFIG[self.agent_key]

    def flag(self, category: str, note: str, *, major: bool) -> None:
        self.issues.append(_Issue(category, major, note))

    def account_key(self) -> dict:
        """How the agent looks the caller up: what they said, or the caller ID."""
        if self.pii in ("email_spoken", "email_written"):
            return {"email": self.person.email}
        return {"phone": "+1" + self.person.phone}

    def tag(self, *names: str) -> None:
        for name in names:
            if name not in self.tags:
                self.tags.append(name)

    # -- turns -------------------------------------------------------------------------------------

    def _add(self, role: str, text: str, start: int, end: int, **extra) -> int:
        seq = len(self.turns)
        turn = {"seq": seq, "role": role, "text": text, "start_ms": start, "end_ms": end}
        turn.update(extra)
        self.turns.append(turn)
        self.clock = max(self.clock, end)
        return seq

    def _speech_ms(self, text: str, ms_per_char: float) -> int:
        return int(len(text) * ms_per_char * self.rng.uniform(0.85, 1.15)) + self.rng.randint(150, 400)

    def agent(self, text: str, *, slow: bool = False, gap: int | None = None) -> int:
        rng = self.rng
        if gap is None:
            slow = slow or self.chance(0.22 if self.laggy else 0.035)
            if slow:
                gap = rng.randint(3100, 6200)
                if self.laggy and self.chance(0.5) and self.turns and self.turns[-1]["role"] == "caller":
                    self.caller(self.pick(["Hello?", "Hello? Are you there?", "Hi, hello?"]), gap=2600)
                    gap = rng.randint(600, 1500)
            else:
                base = 380 if self.model == "gpt-4o-mini-realtime" else 520
                gap = int(rng.triangular(300, 2500, base + 200))
        start = self.clock + self.pending_ms + gap
        self.pending_ms = 0
        return self._add("agent", text, start, start + self._speech_ms(text, 62))

    def caller(
        self, text: str, *, confidence: float | None = None, barge: bool | None = None, gap: int | None = None
    ) -> int:
        rng = self.rng
        prev = self.turns[-1] if self.turns else None
        can_barge = prev is not None and prev["role"] == "agent" and len(prev["text"].split()) >= 9
        if barge is None:
            barges = sum(1 for turn in self.turns if turn.get("interrupted"))
            barge = self.interrupts and can_barge and prev["seq"] > 0 and barges < 2 and self.chance(0.35)
        if barge and can_barge:
            words = prev["text"].split()
            keep = max(4, int(len(words) * rng.uniform(0.35, 0.7)))
            spoken_ms = (prev["end_ms"] - prev["start_ms"]) * keep // len(words)
            start = prev["start_ms"] + spoken_ms
            prev["text"] = " ".join(words[:keep]).rstrip(",.;:!?") + "—"
            prev["interrupted"] = True
            prev["end_ms"] = start + rng.randint(180, 650)  # the agent stops a beat after the caller starts
            self.clock = prev["end_ms"]
        else:
            start = self.clock + (gap if gap is not None else rng.randint(250, 1400))
        if confidence is None:
            confidence = round(rng.uniform(0.81, 0.99), 2)
        end = max(start + self._speech_ms(text, 70), self.clock)
        seq = self._add("caller", text, start, end, confidence=confidence)
        self.last_caller_seq = seq
        return seq

    def mumble(self, text: str) -> int:
        """A caller turn the speech recognizer got wrong."""
        return self.caller(text, confidence=round(self.rng.uniform(0.28, 0.58), 2))

    def asr_trouble_opening(self, scenario: str, more: str = "") -> bool:
        """Sometimes the caller's first sentence is misheard and the agent checks what they meant."""
        if not self.mumble_opening:
            return False
        heard, check, answer = _MUMBLED_OPENERS[scenario]
        self.mumble(heard)
        self.agent(check)
        self.caller(answer + more)
        self.tag("asr-issue")
        self.good.append("checked a low-confidence transcript instead of guessing")
        return True

    def system(self, text: str) -> int:
        start = self.clock + self.pending_ms + self.rng.randint(80, 400)
        self.pending_ms = 0
        return self._add("system", text, start, start)

    def silence(self, ms: int) -> None:
        self.clock += ms

    # -- tools -------------------------------------------------------------------------------------

    def tool(
        self,
        name: str,
        arguments: dict,
        result: dict | None,
        *,
        error: str | None = None,
        latency: int | None = None,
        turn_seq: int | None = None,
    ) -> dict | None:
        rng = self.rng
        if latency is None:
            if error:
                latency = rng.randint(8000, 10000) if error.startswith("timeout") else rng.randint(1500, 6500)
            else:
                latency = int(min(2400, max(60, rng.lognormvariate(5.8, 0.55))))
        self.calls.append(
            {
                "seq": len(self.calls),
                "turn_seq": self.last_caller_seq if turn_seq is None else turn_seq,
                "name": name,
                "arguments": arguments,
                "result": None if error else result,
                "status": "failed" if error else "succeeded",
                "error": error,
                "latency_ms": latency,
            }
        )
        self.call_times.append(self.clock + self.pending_ms)
        self.pending_ms += latency
        return None if error else result

    def upstream_error(self, name: str) -> str:
        return self.pick(_UPSTREAM_ERRORS).format(service=_UPSTREAM[name])

    def use_tool(self, name: str, arguments: dict, result: dict, *, infra_failure: float = 0.12) -> dict:
        """A tool call that sometimes fails upstream; the agent apologises and retries (or gives up).

        One upstream incident per call at most, which keeps a call to six tool calls or fewer.
        """
        if self.xss or self.outage or not self.chance(infra_failure):
            return self.tool(name, arguments, result)
        self.outage = True
        error = self.upstream_error(name)
        self.tool(name, arguments, None, error=error)
        latency = self.calls[-1]["latency_ms"]
        self.tag("tool-error")
        self.agent(
            self.pick(
                [
                    "Sorry, that's taking longer than it should. Let me try that again.",
                    "Hmm, our system didn't respond. One more try.",
                    "Apologies for the wait, the system timed out. Trying again now.",
                ]
            )
        )
        if self.chance(0.2):
            self.tool(name, arguments, None, error=self.upstream_error(name))
            self.agent(
                self.pick(
                    [
                        "I'm sorry, that system is down right now. I've logged a ticket with everything "
                        "you've told me, and someone will call you back within one business day.",
                        "Our system still isn't responding, I'm sorry. I've noted your request and a "
                        "colleague will follow up by email today.",
                    ]
                )
            )
            self.caller(self.pick(["Okay. That's annoying, but fine.", "Alright, thanks for trying."]))
            self.flag(
                "other",
                f"{name} failed twice ({error}); the agent logged a callback instead. Upstream outage, "
                "agent handled it correctly.",
                major=False,
            )
            about = f"Caller called about {self.topic}; " if self.topic else ""
            self.summary = f"{about}{name} failed twice ({_UPSTREAM[name]} down), so a callback was promised."
            raise _CallOver(closing=True)
        self.tool(name, arguments, result)
        category = "tts_or_latency" if latency > 5000 else "other"
        self.flag(
            category,
            f"{name} failed ({error}) after {latency / 1000:.1f} s; retry worked"
            + (" but the caller sat through a long silence." if latency > 5000 else "."),
            major=False,
        )
        return result

    def transfer(self, reason: str, text: str) -> None:
        seq = self.agent(text)
        at_ms = self.turns[seq]["end_ms"]
        queue = self.config["queue"]
        wait = self.rng.randint(20, 240)
        self.tool(
            "transfer_to_human",
            {"queue": queue, "reason": reason, "caller_name": self.person.first},
            {
                "transferred": True,
                "queue": queue,
                "position": self.rng.randint(1, 6),
                "estimated_wait_s": wait,
            },
        )
        self.system(f"Call transferred to queue {queue}.")
        self.escalation = (reason, at_ms)
        self.tag("escalated")
        raise _CallOver()


# --------------------------------------------------------------------------------------------------
# Spoken forms
# --------------------------------------------------------------------------------------------------


def _spoken_digits(rng: random.Random, digits: str) -> str:
    zero = "oh" if rng.random() < 0.5 else "zero"
    return " ".join(zero if d == "0" else _DIGIT_WORDS[int(d)] for d in digits)


def _spoken_phone(rng: random.Random, phone: str) -> str:
    groups = (phone[:3], phone[3:6], phone[6:])
    return ", ".join(_spoken_digits(rng, g) for g in groups)


def _written_phone(rng: random.Random, phone: str) -> str:
    if rng.random() < 0.5:
        return f"{phone[:3]}-{phone[3:6]}-{phone[6:]}"
    return f"({phone[:3]}) {phone[3:6]}-{phone[6:]}"


def _spoken_order(rng: random.Random, order: str) -> str:
    return order if rng.random() < 0.45 else _spoken_digits(rng, order)


def _money(amount: float) -> str:
    return f"${amount:,.2f}"


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _clock(hhmm: str) -> str:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return f"{(hour - 1) % 12 + 1}:{minute:02d}" if minute else f"{(hour - 1) % 12 + 1}"


def _day_phrase(day: dt.date) -> str:
    return f"{_WEEKDAYS[day.weekday()]} the {_ordinal(day.day)}"


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _ssn(rng: random.Random) -> str:
    """A format-valid SSN: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    area = rng.choice([rng.randint(1, 665), rng.randint(667, 899)])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _person(rng: random.Random) -> _Person:
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    style = rng.randrange(3)
    if style == 0:
        local, spoken = f"{first}.{last}".lower(), f"{first} dot {last}".lower()
    elif style == 1:
        local, spoken = f"{first}_{last}".lower(), f"{first} underscore {last}".lower()
    else:
        local, spoken = f"{first[0]}{last}".lower(), f"{first[0]} {last}".lower()
    phone = rng.choice(_AREA_CODES) + "555" + f"{rng.randint(100, 199):04d}"
    return _Person(
        first=first,
        last=last,
        phone=phone,
        email_local=local,
        email_spoken_local=spoken,
        email_domain=rng.choice(_EMAIL_DOMAINS),
        card=rng.choice(_TEST_CARDS),
        ssn=_ssn(rng),
    )


# --------------------------------------------------------------------------------------------------
# Shared script steps
# --------------------------------------------------------------------------------------------------


def _greeting(c: _Call) -> None:
    cfg = c.config
    if c.version == "v12":
        text = c.pick(
            [
                f"Thanks for calling {cfg['brand']}. I'm {cfg['persona']}, a virtual assistant, and "
                "this call may be recorded. What can I help you with?",
                f"Hi, you've reached {cfg['brand']}. I'm {cfg['persona']}, an automated assistant; calls are "
                "recorded for quality. How can I help?",
            ]
        )
    else:
        text = c.pick(
            [
                f"Thank you for calling {cfg['brand']}, this is {cfg['persona']}. How can I help you today?",
                f"Hello and welcome to {cfg['brand']}. My name is {cfg['persona']}. What can I do for you?",
            ]
        )
    c.agent(text, gap=c.rng.randint(300, 900))


def _pii_line(c: _Call, kind: str) -> str:
    p, rng = c.person, c.rng
    if kind == "phone_spoken":
        return c.pick(["Sure, my number is {}.", "It's {}.", "Yeah, the phone number is {}."]).format(
            _spoken_phone(rng, p.phone)
        )
    if kind == "phone_written":
        return c.pick(["It's {}.", "My cell is {}.", "You can use {}."]).format(_written_phone(rng, p.phone))
    if kind == "email_spoken":
        return c.pick(["It's {}.", "Sure, it's {}.", "The email is {}."]).format(p.email_spoken)
    if kind == "email_written":
        return c.pick(["It's {}.", "The email on file is {}."]).format(p.email)
    if kind == "card":
        return c.pick(
            ["It was my Visa, {}.", "The card number is {}.", "Um, it's {}, expires oh four twenty seven."]
        ).format(p.card)
    return c.pick(
        ["Do you need my social? It's {}.", "My social security number is {}, if that helps."]
    ).format(p.ssn)


def _verify(c: _Call) -> None:
    """The agent asks who is calling; callers with PII read it out. The agent's next line acknowledges."""
    lead = (
        ""
        if c.turns[-1]["role"] == "agent"
        else c.pick(["Sure. ", "Happy to help. ", "I can help with that. "])
    )
    if c.pii in ("phone_spoken", "phone_written", "email_spoken", "email_written"):
        kind = "phone number" if c.pii.startswith("phone") else "email address"
        c.agent(f"{lead}Can I get the {kind} on your account?")
        c.caller(_pii_line(c, c.pii) + _vent(c))
        c.tag("pii")
    elif c.pii == "ssn":
        c.agent(f"{lead}Can I get your full name and the email address on the account?")
        c.caller(f"It's {c.person.name}. " + _pii_line(c, "ssn"))
        c.agent(
            "Thanks. Please don't share your social security number; we'll never need it. Your name and "
            "email are enough."
        )
        c.caller(
            c.pick(
                ["Oh, okay. The email is the same as my name at " + c.person.email_domain + ".", "Oh. Sorry."]
            )
            + _vent(c)
        )
        c.tag("pii")
        c.good.append("told the caller not to share their SSN")
    else:
        c.agent(lead + c.pick(["Can I start with your full name?", "What's the name on the account?"]))
        c.caller(
            c.pick(
                [f"It's {c.person.name}.", f"{c.person.name}.", f"Yeah, {c.person.first} {c.person.last}."]
            )
            + _vent(c)
        )


_FAQ = {
    "billing-agent": [
        ("do I need to keep the receipt email?", "No need, we have everything on file."),
        ("will I get an email about this?", "Yes, a confirmation email goes out within a few minutes."),
        ("can I switch my default card online?", "Yes, under Account, then Payment methods."),
        ("why did the charge show up as pending first?", "Banks hold the amount until the order ships."),
    ],
    "scheduling-agent": [
        ("do I need to bring anything?", "Just your insurance card and a photo ID."),
        ("is there parking at that office?", "Yes, there's free parking behind the building."),
        ("how early should I arrive?", "About ten minutes early is perfect."),
        ("do you take Blue Cross?", "We do, for all of those services."),
    ],
    "support-agent": [
        ("is there an app for this?", "Yes, the Acme app is on iOS and Android."),
        ("what are your hours?", "Our live team is available 8 to 8 Eastern, Monday to Saturday."),
        ("can I get text updates?", "Yes, you can turn on text alerts under Notifications in your account."),
        ("can I change my delivery address online?", "Yes, until the order ships, under Orders, then Edit."),
    ],
}


def _second_order(c: _Call) -> None:
    order = _order(c, expensive=False)
    c.caller(
        f"Actually, yes. Can you check if my other order shipped? It's {_spoken_order(c.rng, order['id'])}."
    )
    result = c.use_tool("lookup_order", {"order_id": order["id"]}, _order_result(c, order))
    eta = c.started_local.date() + dt.timedelta(days=c.rng.randint(1, 4))
    if result["status"] == "delivered":
        c.agent(
            f"That one, the {order['item']}, was delivered on "
            f"{_day_phrase(order['placed'] + dt.timedelta(days=3))}."
        )
    else:
        c.agent(f"Yes, the {order['item']} shipped and should arrive by {_day_phrase(eta)}.")
    c.caller(c.pick(["Great.", "Okay, good to know.", "Perfect."]))


def _second_booking(c: _Call) -> None:
    service, location = c.pick(_SERVICES), c.pick(_LOCATIONS)
    day = _future_day(c)
    c.caller(
        f"Actually, could you book my husband for a {service[0]} too? {_WEEKDAYS[day.weekday()]} is best."
    )
    slots = _slots(c)
    c.use_tool(
        "check_availability",
        {"service": service[1], "date": day.isoformat(), "location": location.lower()},
        {"date": day.isoformat(), "slots": slots},
    )
    chosen = c.pick(slots)
    c.agent(f"I have {_clock(chosen)} on {_day_phrase(day)} at {location}. Shall I take it? What's his name?")
    c.caller(f"Yes please. It's {c.pick(_FIRST_NAMES)} {c.person.last}.")
    confirmation = _confirmation(c)
    c.use_tool(
        "book_appointment",
        {"service": service[1], "date": day.isoformat(), "time": chosen, "location": location.lower()},
        {"confirmation": confirmation, "status": "confirmed"},
    )
    c.agent(f"Done, that's confirmation {confirmation}.")


def _tracking(c: _Call) -> tuple[str, str]:
    carrier, prefix, length = c.pick(_CARRIERS)
    alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ" if carrier == "UPS" else "0123456789"
    return carrier, prefix + "".join(c.pick(alphabet) for _ in range(length))


def _second_package(c: _Call) -> None:
    order = _order(c, expensive=False)
    carrier, tracking = _tracking(c)
    c.caller(f"Actually, while I have you, where's order {_spoken_order(c.rng, order['id'])}?")
    eta = c.started_local.date() + dt.timedelta(days=c.rng.randint(1, 4))
    c.use_tool(
        "track_shipment",
        {"order_id": order["id"]},
        {
            "carrier": carrier,
            "tracking_number": tracking,
            "status": "in_transit",
            "last_scan": c.pick(_SCAN_CITIES),
            "eta": eta.isoformat(),
        },
    )
    c.agent(f"That one's with {carrier} and due {_day_phrase(eta)}.")
    c.caller(c.pick(["Okay, thanks.", "Good, thanks."]))


_SECOND_TOPIC = {
    "billing-agent": _second_order,
    "scheduling-agent": _second_booking,
    "support-agent": _second_package,
}


def _dispute(c: _Call) -> None:
    """An angry caller wants more than a fix; the agent holds the line politely."""
    c.caller(
        c.pick(
            [
                "That's it? I've wasted my whole lunch break on this. I want some kind of credit.",
                "Honestly, after all this, I think I deserve something for my trouble.",
                "And who's going to make sure this doesn't happen again? Because it keeps happening.",
            ]
        )
    )
    c.agent(
        "I completely understand. I'm not able to add credits myself, but I've added a note to your account "
        "describing what happened, so the team can review it."
    )
    c.caller(
        c.pick(["A note. Great. That's really reassuring.", "That's not good enough, but fine.", "Fine."])
    )
    c.agent("I'm sorry it's been such a hassle. I've flagged it as a priority review.")


def _closing(c: _Call) -> None:
    """Anything else? Some callers have one or two more questions, so calls vary in length."""
    if c.angry and c.chance(0.5):
        _dispute(c)
    extras = c.rng.choices([0, 1, 2, 3, 4], weights=[40, 30, 16, 8, 6], k=1)[0]
    faqs = c.rng.sample(_FAQ[c.agent_key], min(extras, len(_FAQ[c.agent_key])))
    second = extras > 0 and len(c.calls) <= 2 and c.chance(0.3)
    c.agent(
        c.pick(
            [
                "Is there anything else I can help you with today?",
                "Anything else I can do for you?",
                "Is there anything else you need?",
            ]
        )
    )
    for index in range(extras):
        if index == 0 and second:
            _SECOND_TOPIC[c.agent_key](c)
        else:
            question, answer = faqs[index]
            lead = c.pick(["Oh, one more thing:", "Actually, yes,", "Yeah, quick one:", "Um, yes,"])
            c.caller(f"{lead} {question}")
            c.agent(answer)
        c.agent(c.pick(["Anything else?", "What else can I help with?", "Is there anything else?"]))
    if c.angry:
        c.caller(
            c.pick(
                [
                    "No. Just make sure it actually happens this time.",
                    "No, that's it.",
                    "No. Thanks, I guess.",
                ]
            )
        )
    else:
        c.caller(
            c.pick(
                [
                    "No, that's everything. Thanks so much.",
                    "Nope, that's it. Thank you!",
                    "No, you've been really helpful, thanks.",
                    "That's all, thanks.",
                ]
            )
        )
    c.agent(
        c.pick(
            [
                f"Thanks for calling, {c.person.first}. Have a great day.",
                "You're welcome. Take care!",
                "Happy to help. Goodbye!",
            ]
        )
    )


def _vent(c: _Call) -> str:
    """What an angry caller adds to their answer; the agent's next line acknowledges it."""
    if not (c.angry and c.chance(0.6)):
        return ""
    c.vented = True
    return " " + c.pick(
        [
            "And before you say anything, I've already been on hold for twenty minutes today.",
            "Honestly, this is the third time I've called about this. Nobody ever calls back.",
            "I don't understand why this is so hard. I just want it fixed.",
            "Every time I call, I have to explain everything from the start.",
        ]
    )


def _acknowledge(c: _Call) -> str:
    """The agent's lead-in to its next line: an apology after venting, else a short acknowledgement."""
    if c.vented:
        c.vented = False
        return c.pick(
            [
                "I'm sorry, that's not the experience we want you to have. Let's get it sorted now. ",
                "I understand, and I'm sorry it's taken this long. I'll stay with you until it's fixed. ",
                "That's fair, and I apologise. Let's fix it on this call. ",
            ]
        )
    return c.pick([f"Thanks, {c.person.first}. ", "Got it. ", "Thank you. ", ""])


def _wants_human(c: _Call) -> None:
    """The caller asks for a person: transferred, or (a missed escalation) talked past until they hang up."""
    ask = c.pick(
        [
            "Honestly, can I just talk to a real person?",
            "Can I speak to a human, please?",
            "I'd rather talk to an actual person about this.",
        ]
        if not c.angry
        else [
            "No. Stop. I want to talk to a human being, right now.",
            "I'm not doing this with a robot again. Get me a person.",
            "Representative. Agent. A real person, please!",
        ]
    )
    if c.turns[-1]["role"] == "caller":
        c.agent(_acknowledge(c) + c.pick(["One moment.", "Let me pull that up.", "Let me take a look."]))
    first = c.caller(ask, barge=c.angry or None)
    c.tag("human-requested")
    if c.issue == "missed_escalation":
        c.agent(
            c.pick(
                [
                    "I understand. I can help with most requests right here. Could you tell me a bit "
                    "more about the problem?",
                    "I'm happy to help you myself! Let's get this sorted out. What seems to be the issue?",
                ]
            )
        )
        second = c.caller(
            c.pick(["No, I asked for a person.", "I said I want a human. Please.", "A person. Please."])
        )
        c.agent(
            c.pick(
                [
                    "I can definitely take care of this for you. Let's start with your account details.",
                    "Let's try together first. Can you give me your order number?",
                ]
            )
        )
        c.caller(
            c.pick(["Forget it. I'll call back.", "Unbelievable. Bye.", "You know what, never mind."]),
            barge=True,
        )
        c.system("Caller hung up.")
        c.flag(
            "missed_escalation",
            f"Caller asked for a human at turns {first} and {second}; the agent deflected both times and the "
            "caller hung up. Should have transferred on the first request.",
            major=True,
        )
        c.flag("caller_abandoned", "Caller abandoned after being refused a human.", major=False)
        about = f"Caller called about {c.topic} and" if c.topic else "Caller"
        c.summary = f"{about} asked for a human twice; the agent kept deflecting and the caller hung up."
        c.tag("abandoned")
        raise _CallOver()
    if c.chance(0.4):
        c.agent("Sure. Before I do, can I try to fix it for you? It usually only takes a minute.")
        c.caller(c.pick(["No, thank you. A person, please.", "I'd really rather talk to someone."]))
    c.good.append("transferred as soon as the caller insisted on a person")
    about = f"Caller called about {c.topic}, asked" if c.topic else "Caller asked"
    c.summary = f"{about} for a human early on and was transferred to {c.config['queue']}."
    c.transfer(
        "caller requested a human",
        c.pick(
            [
                "Of course. I'm connecting you with a member of our team now, and I'll pass along what "
                "you've told me so you don't have to repeat it.",
                "No problem. I'm transferring you to a colleague now; please stay on the line.",
            ]
        ),
    )


def _asr_failures(c: _Call) -> None:
    """Speech recognition keeps failing (noise, bad line); the agent hands over."""
    c.tag("asr-issue")
    sorry = [
        "Sorry, I didn't quite catch that. Could you say it again?",
        "I'm sorry, the line is breaking up. Could you repeat that?",
        "Apologies, I missed that. One more time?",
    ]
    low = []
    for garbled in c.rng.sample(_GARBLED, 3):
        low.append(c.mumble(garbled))
        if len(low) == 3:
            break
        c.agent(c.pick(sorry))
    c.flag(
        "asr_error",
        f"Three caller turns in a row under 0.6 STT confidence (turns {', '.join(map(str, low))}); "
        "sounds like road noise. The handoff was right; worth checking the noise-suppression setting.",
        major=False,
    )
    c.summary = "Speech recognition failed repeatedly on a noisy line; the call was handed to a human."
    c.transfer(
        "repeated ASR failures",
        "I'm having trouble hearing you clearly, so I'm going to connect you with a colleague who can help. "
        "One moment.",
    )


def _still_there(c: _Call, again: str) -> None:
    """A long silence after a question: the caller comes back (the agent asks ``again``), or the call ends."""
    c.silence(c.rng.randint(6500, 9500))
    c.agent(
        c.pick(
            ["Are you still there?", "Hello, are you still with me?", "I'm still here whenever you're ready."]
        )
    )
    if c.chance(0.7):
        c.caller(
            c.pick(
                [
                    "Sorry, yes, I'm here. I was looking for the email.",
                    "Yeah, sorry, my kid was talking to me.",
                    "Sorry, I'm here. Go ahead.",
                ]
            )
        )
        c.agent(f"No problem. {again}")
        return
    c.silence(c.rng.randint(7000, 11000))
    c.agent("I haven't heard anything for a while, so I'll end the call now. Please call back anytime.")
    c.system("No audio from caller for 20 s; agent ended the call.")
    c.flag("caller_abandoned", "Caller went silent mid-call and never came back.", major=False)
    about = f" while discussing {c.topic}" if c.topic else ""
    c.summary = f"The caller went silent{about}; the agent ended the call after 20 s of no audio."
    c.tag("abandoned")
    raise _CallOver()


# --------------------------------------------------------------------------------------------------
# Billing
# --------------------------------------------------------------------------------------------------


def _order(c: _Call, *, expensive: bool | None = None) -> dict:
    items = _ITEMS
    if expensive is True:
        items = [item for item in _ITEMS if item[1] > REFUND_LIMIT]
    elif expensive is False:
        items = [item for item in _ITEMS if item[1] <= REFUND_LIMIT]
    name, price = c.pick(items)
    placed = c.started_local.date() - dt.timedelta(days=c.rng.randint(2, 25))
    return {"id": str(c.rng.randint(10000, 99999)), "item": name, "total": price, "placed": placed}


def _order_result(c: _Call, order: dict, *, charges: int = 1) -> dict:
    charged = [
        {
            "charge_id": f"ch_{_hex(c.rng, 10)}",
            "amount": order["total"],
            "created": order["placed"].isoformat(),
        }
        for _ in range(charges)
    ]
    return {
        "order_id": order["id"],
        "item": order["item"],
        "total": order["total"],
        "currency": "USD",
        "status": c.pick(["delivered", "delivered", "shipped"]),
        "placed_at": order["placed"].isoformat(),
        "charges": charged,
        "payment_method": f"card ending {c.person.card[-4:]}",
    }


def _ask_order(c: _Call, order: dict) -> int:
    c.agent(
        _acknowledge(c)
        + c.pick(
            [
                "Can you give me the order number?",
                "What's the order number, please?",
                "Do you have the order number handy?",
            ]
        )
    )
    if c.chance(0.12):
        _still_there(c, "What's the order number?")
    return c.caller(
        c.pick(["It's {}.", "Order {}.", "Yeah, it's {}."]).format(_spoken_order(c.rng, order["id"]))
    )


def _lookup_order(c: _Call, order: dict, *, charges: int = 1) -> dict:
    if c.issue == "asr_order":
        # The recognizer swapped two digits; the lookup 404s and the agent asks again.
        wrong = order["id"][:2] + order["id"][3] + order["id"][2] + order["id"][4:]
        if wrong == order["id"]:
            wrong = order["id"][:-1] + str((int(order["id"][-1]) + 3) % 10)
        heard = c.turns[c.last_caller_seq]
        heard["text"] = c.pick(["It's {}.", "Yeah, it's {}.", "Order {}."]).format(
            _spoken_digits(c.rng, wrong)
        )
        heard["confidence"] = round(c.rng.uniform(0.41, 0.58), 2)
        c.agent("Let me pull that up.")
        c.tool(
            "lookup_order",
            {"order_id": wrong},
            None,
            error=f"404 from orders-service: order {wrong} not found",
            latency=c.rng.randint(120, 400),
        )
        c.agent(f"I couldn't find order {wrong}. Could you read the number to me once more, slowly?")
        c.caller(f"Sure. {_spoken_digits(c.rng, order['id']).capitalize()}.")
        c.flag(
            "asr_error",
            f"STT heard order {wrong} instead of {order['id']} (low confidence); the lookup 404'd and "
            "the agent "
            "asked again. Recovered, but reading the number back first would have saved a round trip.",
            major=False,
        )
        c.tag("asr-issue")
    else:
        c.agent(c.pick(["Let me pull that up.", "One moment while I look that up.", "Thanks, checking now."]))
    return c.use_tool("lookup_order", {"order_id": order["id"]}, _order_result(c, order, charges=charges))


def _refund_done(c: _Call, amount: float, refund: dict) -> None:
    c.agent(
        c.pick(
            [
                f"Done. I've refunded {_money(amount)} to your card; you should see it in three to five "
                f"business days. Your reference is {refund['refund_id'][-6:].upper()}.",
                f"All set. A refund of {_money(amount)} is on its way and should show up within five "
                "business days.",
            ]
        )
    )


def _issue_refund(c: _Call, order: dict, amount: float, reason: str) -> None:
    """Refund, with the scripted mistakes: wrong amount, or a failure the agent glosses over."""
    args = {"order_id": order["id"], "amount": amount, "reason": reason}
    result = {
        "refund_id": f"re_{_hex(c.rng, 12)}",
        "status": "pending",
        "amount": amount,
        "eta_business_days": 5,
    }
    if c.issue == "wrong_refund_amount":
        wrong = (
            round(amount * 2, 2)
            if reason == "duplicate_charge"
            else c.pick([p for _, p in _ITEMS if p != amount])
        )
        c.tool("issue_refund", {**args, "amount": wrong}, {**result, "amount": wrong})
        _refund_done(c, wrong, result)
        c.caller(c.pick(["Oh. Okay, great, thanks.", "Wait, that much? Okay, I'll take it.", "Great."]))
        c.flag(
            "wrong_tool_args",
            f"issue_refund sent amount {wrong:.2f} for order {order['id']}, but the refund due was "
            f"{amount:.2f} (order total {order['total']:.2f}). Money lost; the agent read the wrong figure "
            "back without noticing.",
            major=True,
        )
        c.summary = (
            f"Refund issued for order {order['id']}, but for {_money(wrong)} instead of {_money(amount)}."
        )
        return
    if c.issue == "cents_refund":
        cents = round(amount * 100)
        c.tool(
            "issue_refund",
            {**args, "amount": cents},
            None,
            error=f"400 from payments-service: refund amount {cents}.00 exceeds captured amount {amount:.2f}",
            latency=c.rng.randint(200, 600),
        )
        c.tool("issue_refund", args, result)
        _refund_done(c, amount, result)
        c.flag(
            "wrong_tool_args",
            f"First issue_refund passed {cents} (cents) where the tool takes dollars; payments-service "
            "rejected "
            "it and the retry was right. Harmless this time, but the schema description should say dollars.",
            major=False,
        )
        return
    if c.issue == "hallucinated_refund":
        error = c.pick(
            ["timeout after 8000 ms waiting for payments-service", "upstream 504 from payments-service"]
        )
        c.tool("issue_refund", args, None, error=error)
        c.tag("tool-error")
        _refund_done(c, amount, result)
        c.flag(
            "hallucination",
            f"issue_refund failed ({error}) but the agent told the caller the {_money(amount)} refund "
            "was done "
            "and even read out a reference number. Nothing was refunded; the caller will call back angry.",
            major=True,
        )
        c.summary = (
            f"Agent confirmed a {_money(amount)} refund that never went through (payments-service error)."
        )
        return
    c.use_tool("issue_refund", args, result)
    _refund_done(c, amount, result)


def _billing_double_charge(c: _Call) -> None:
    order = _order(c)
    c.tag("refund", "double-charge")
    c.topic = f"a double charge on order {order['id']}"
    if c.asr_trouble_opening("_billing_double_charge"):
        pass
    elif c.angry:
        c.caller(
            c.pick(
                [
                    "Yeah, you people charged me twice for the same order and I'm honestly fed up. This "
                    "is the second time this has happened.",
                    "I've been double charged. Again. I want my money back today.",
                ]
            ),
            confidence=round(c.rng.uniform(0.8, 0.95), 2),
        )
        c.vented = True
    else:
        c.caller(
            c.pick(
                [
                    "Hi, I was charged twice for my order.",
                    "Hi. I just checked my bank statement and there are two charges for the same order.",
                    "Hey, I think I got billed twice for something I bought last week.",
                ]
            )
        )
    _verify(c)
    if c.issue in ("missed_escalation", "human"):
        _wants_human(c)
    _ask_order(c, order)
    _lookup_order(c, order, charges=2)
    said = (
        f"I can see the order for the {order['item']}, and yes, there are two charges of "
        f"{_money(order['total'])} on {_day_phrase(order['placed'])}. The second one is a duplicate."
    )
    if c.pii == "card":
        c.agent(f"{said} Just to confirm, which card did you pay with?")
        c.caller(_pii_line(c, "card"))
        said = (
            "Thank you. For your security I only ever need the last four digits. That matches the card "
            f"ending {c.person.card[-4:]}."
        )
        c.tag("pii")
        c.good.append("stopped the caller reading the full card number")
    if c.angry:
        c.agent(said)
        c.caller("So how did this even happen? This is ridiculous.")
        said = "It looks like the payment was submitted twice at checkout. I'm sorry; that shouldn't happen."
    c.agent(f"{said} I'll refund the duplicate {_money(order['total'])} now. Is that okay?")
    c.caller(c.pick(["Yes, please.", "Yes. Thank you.", "Yeah, go ahead."]))
    _issue_refund(c, order, order["total"], "duplicate_charge")
    c.summary = c.summary or (
        f"Caller was double charged {_money(order['total'])} for order {order['id']} ({order['item']}); "
        "the duplicate was refunded."
    )
    c.good.append("refunded only the duplicate and gave the timeline")


def _billing_refund(c: _Call) -> None:
    expensive = c.issue == "policy_violation" or (c.issue is None and c.chance(0.25))
    order = _order(c, expensive=expensive)
    reason = c.pick(
        [
            "arrived damaged",
            "came in the wrong size",
            "isn't what I ordered",
            "arrived too late to be any use",
        ]
    )
    c.tag("refund")
    c.topic = f"a refund for their {order['item']}"
    if not c.asr_trouble_opening("_billing_refund"):
        c.caller(
            c.pick(
                [
                    f"Hi, I'd like a refund for the {order['item']} I ordered. It {reason}.",
                    f"Hello, I want to return my {order['item']}. It {reason}.",
                ]
            )
            if not c.angry
            else f"I want a refund for this {order['item']}. It {reason} and I've already wasted an "
            "hour on it.",
        )
    _verify(c)
    if c.issue in ("missed_escalation", "human"):
        _wants_human(c)
    _ask_order(c, order)
    _lookup_order(c, order)
    total = order["total"]
    said = f"I see the {order['item']} for {_money(total)}, placed on {_day_phrase(order['placed'])}."
    if total > REFUND_LIMIT and c.issue != "policy_violation":
        c.good.append("escalated the over-limit refund instead of issuing it")
        c.summary = (
            f"Caller wanted a {_money(total)} refund for their {order['item']} ({reason}); above the agent's "
            "limit, so transferred to billing."
        )
        c.transfer(
            "refund above agent limit",
            f"{said} Refunds over {_money(REFUND_LIMIT)} need a billing specialist to approve them, so I'm "
            "transferring you now. I've noted everything, so you won't need to repeat it.",
        )
    c.agent(f"{said} I can refund the full {_money(total)} to your original card. Shall I go ahead?")
    c.caller(c.pick(["Yes, please.", "Yes.", "Please do."]))
    _issue_refund(c, order, total, "customer_return")
    if total > REFUND_LIMIT:
        c.flag(
            "policy_violation",
            f"Agent issued a {_money(total)} refund itself; anything over {_money(REFUND_LIMIT)} must go to "
            "billing-tier2.",
            major=True,
        )
        c.flag("missed_escalation", "Over-limit refund should have been escalated.", major=True)
        c.summary = (
            f"Agent refunded {_money(total)} for the {order['item']} without escalating (over the limit)."
        )
    c.agent("I've also emailed you a prepaid return label.")
    c.summary = (
        c.summary or f"Refunded {_money(total)} for the {order['item']} ({reason}); return label sent."
    )
    c.good.append("confirmed the amount before refunding")


def _billing_charge_question(c: _Call) -> None:
    amount = c.pick([9.99, 14.99, 49.00, 99.00])
    c.tag("billing-question")
    c.topic = f"an unrecognised {_money(amount)} charge"
    if not c.asr_trouble_opening("_billing_charge_question"):
        c.caller(
            c.pick(
                [
                    f"Hi, there's a charge from you for {_money(amount)} on my card and I don't know "
                    "what it is.",
                    f"I see a {_money(amount)} charge from Acme that I don't recognize.",
                ]
            )
        )
    _verify(c)
    if c.issue in ("missed_escalation", "human"):
        _wants_human(c)
    c.agent(_acknowledge(c) + "Let me look at your recent charges.")
    renewed = c.started_local.date() - dt.timedelta(days=c.rng.randint(1, 6))
    if c.issue == "hallucinated_charge":
        c.tool(
            "lookup_order", {"email": c.person.email, "since_days": 30}, {"orders": [], "subscriptions": []}
        )
        c.agent(
            f"That {_money(amount)} is your Acme Plus membership renewal from {_day_phrase(renewed)}. "
            "It renews every year."
        )
        c.caller("Oh. I didn't know I had a membership. Okay.")
        c.flag(
            "hallucination",
            "lookup_order returned no orders and no subscriptions, yet the agent explained the charge "
            "as a Plus renewal. Made up; should have said it couldn't find the charge and opened a dispute.",
            major=True,
        )
        c.summary = (
            f"Agent attributed an unrecognised {_money(amount)} charge to a membership that does not exist."
        )
        return
    c.use_tool(
        "lookup_order",
        {"email": c.person.email, "since_days": 30},
        {
            "orders": [],
            "subscriptions": [{"plan": "acme-plus", "amount": amount, "renewed_at": renewed.isoformat()}],
        },
    )
    c.agent(
        f"That's your Acme Plus membership, which renewed on {_day_phrase(renewed)} for {_money(amount)}."
    )
    if c.chance(0.5):
        c.caller("Oh, right. I forgot about that. Can I cancel it?")
        c.agent(
            "You can cancel anytime under Account, then Membership, and you'd keep the benefits until "
            "it ends."
        )
        c.caller("Okay, I'll do that.")
        c.summary = (
            f"Caller queried a {_money(amount)} charge; it was the Plus renewal. Explained how to cancel."
        )
    else:
        c.caller("Oh, okay, that makes sense.")
        c.summary = (
            f"Caller queried a {_money(amount)} charge; agent identified it as the Plus membership renewal."
        )
    c.good.append("explained the charge from the lookup result")


# --------------------------------------------------------------------------------------------------
# Scheduling
# --------------------------------------------------------------------------------------------------


def _future_day(c: _Call) -> dt.date:
    day = c.started_local.date() + dt.timedelta(days=c.rng.randint(1, 9))
    while day.weekday() == 6:
        day += dt.timedelta(days=1)
    return day


def _slots(c: _Call) -> list[str]:
    pool = ["08:30", "09:00", "09:30", "10:15", "11:00", "13:00", "14:30", "15:30", "16:00"]
    return sorted(c.rng.sample(pool, 3))


def _confirmation(c: _Call) -> str:
    return f"BK-{c.rng.randint(10000, 99999)}"


def _book(
    c: _Call,
    service: tuple[str, str],
    location: str,
    *,
    ask: str = "What day works best for you?",
    summary: str = "Booked a {service} for {first} on {when} ({location}).",
) -> None:
    """Find a slot and book it; ``summary`` is the call summary when all goes well."""
    day = _future_day(c)
    said = _WEEKDAYS[day.weekday()]
    if c.issue == "asr_day" and said in ("Tuesday", "Thursday"):
        heard_day = day + dt.timedelta(days=2 if said == "Tuesday" else -2)
        if heard_day <= c.started_local.date():
            heard_day = day + dt.timedelta(days=2)
        heard = _WEEKDAYS[heard_day.weekday()]
        c.agent(ask)
        c.mumble(f"Do you have anything {heard} afternoon?")
        c.tag("asr-issue")
        asked_day = heard_day
    else:
        c.agent(ask)
        c.caller(
            c.pick(
                [f"Do you have anything {said}?", f"{said} would be good.", f"Is {_day_phrase(day)} open?"]
            )
        )
        asked_day = day
    slots = _slots(c)
    c.agent(f"Let me check {_day_phrase(asked_day)} at our {location} office.")
    c.use_tool(
        "check_availability",
        {"service": service[1], "date": asked_day.isoformat(), "location": location.lower()},
        {"date": asked_day.isoformat(), "slots": slots},
    )
    spoken = [_clock(s) for s in slots]
    c.agent(f"I have {spoken[0]}, {spoken[1]} or {spoken[2]}. Which works best?")
    chosen = c.pick(slots)
    c.caller(c.pick(["{} works.", "Let's do {}.", "{}, please."]).format(_clock(chosen)))
    if c.pii in ("phone_spoken", "phone_written"):
        c.agent("And what's the best number for a reminder text?")
        c.caller(_pii_line(c, c.pii))
        c.tag("pii")
    confirmation = _confirmation(c)
    args = {
        "service": service[1],
        "date": asked_day.isoformat(),
        "time": chosen,
        "location": location.lower(),
        "patient_name": c.person.name,
    }
    result = {"confirmation": confirmation, "status": "confirmed"}
    if c.issue == "hallucinated_booking":
        error = c.upstream_error("book_appointment")
        c.tool("book_appointment", args, None, error=error)
        c.tag("tool-error")
        c.agent(
            f"You're all set for {_day_phrase(asked_day)} at {_clock(chosen)}. Your confirmation number is "
            f"{confirmation}."
        )
        c.caller("Perfect, thank you.")
        c.flag(
            "hallucination",
            f"book_appointment failed ({error}) but the agent confirmed the booking and invented "
            f"confirmation {confirmation}. The caller will show up to an appointment that doesn't exist.",
            major=True,
        )
        c.summary = f"Agent confirmed a {service[0]} booking that failed upstream; no appointment exists."
        return
    c.use_tool("book_appointment", args, result)
    if c.version == "v12" or c.chance(0.3):
        c.agent(
            f"You're booked for a {service[0]} on {_day_phrase(asked_day)} at {_clock(chosen)} at our "
            f"{location} office. Your confirmation number is {confirmation}."
        )
        c.good.append("read the date and time back")
    else:
        c.agent(f"Done, you're booked. Your confirmation number is {confirmation}.")
    if asked_day != day:
        if c.version == "v12" or c.chance(0.5):
            c.caller(f"Wait, {_WEEKDAYS[asked_day.weekday()]}? No, I said {said}.")
            c.agent(f"I'm so sorry about that. Let me move it to {_day_phrase(day)}.")
            c.use_tool(
                "cancel_appointment",
                {"confirmation": confirmation, "reason": "booked wrong day"},
                {"confirmation": confirmation, "status": "cancelled"},
            )
            new = _confirmation(c)
            c.use_tool(
                "book_appointment",
                {**args, "date": day.isoformat()},
                {"confirmation": new, "status": "confirmed"},
            )
            c.agent(f"Fixed: {_day_phrase(day)} at {_clock(chosen)}, confirmation {new}.")
            c.flag(
                "asr_error",
                f"STT turned '{said}' into '{_WEEKDAYS[asked_day.weekday()]}' (low confidence) and the agent "
                "booked it; the caller caught it on the read-back and it was rebooked.",
                major=False,
            )
            c.summary = (
                f"Booked a {service[0]} for {_day_phrase(day)} after the agent misheard the day and rebooked."
            )
        else:
            c.caller("Great, thanks.")
            c.flag(
                "asr_error",
                f"Caller asked for {said}; STT heard '{_WEEKDAYS[asked_day.weekday()]}' at low "
                "confidence and the agent booked that day without reading it back. Wrong appointment.",
                major=True,
            )
            c.summary = (
                f"Booked a {service[0]} on the wrong day ({_day_phrase(asked_day)}) after a mishearing."
            )
        return
    c.summary = summary.format(
        service=service[0],
        first=c.person.first,
        when=f"{_day_phrase(day)} at {_clock(chosen)}",
        location=location,
    )


def _scheduling_book(c: _Call) -> None:
    service, location = c.pick(_SERVICES), c.pick(_LOCATIONS)
    c.tag("appointment")
    c.topic = f"booking a {service[0]}"
    if not c.asr_trouble_opening("_scheduling_book"):
        c.caller(
            c.pick(
                [
                    f"Hi, I'd like to book a {service[0]}.",
                    f"Hi there, I need to make an appointment for a {service[0]}.",
                    f"Yeah, hi, can I schedule a {service[0]} at the {location} office?",
                ]
            )
        )
    _verify(c)
    if c.issue in ("missed_escalation", "human"):
        _wants_human(c)
    _book(c, service, location, ask=_acknowledge(c) + "What day works best for you?")


def _scheduling_reschedule(c: _Call) -> None:
    service, location = c.pick(_SERVICES), c.pick(_LOCATIONS)
    old = _confirmation(c)
    c.tag("reschedule")
    if not c.asr_trouble_opening("_scheduling_reschedule"):
        c.caller(
            c.pick(
                [
                    f"Hi, I need to move my {service[0]}. Something came up at work.",
                    "Hello, I have an appointment this week and I need to reschedule it.",
                ]
            )
            if not c.angry
            else "I need to reschedule, and before you ask, no, I can't make it, because your office "
            "moved it on me last time."
        )
    _verify(c)
    if c.issue in ("missed_escalation", "human"):
        _wants_human(c)
    c.topic = f"moving a {service[0]}"
    if c.issue == "wrong_tool":
        c.agent(f"{_acknowledge(c)}I see your {service[0]} at our {location} office, confirmation {old}.")
        c.caller("Yes, that one. Can we find another day next week?")
        c.use_tool(
            "cancel_appointment",
            {"confirmation": old, "reason": "caller request"},
            {"confirmation": old, "status": "cancelled"},
        )
        c.agent("I've cancelled that appointment for you. You can call us back when you know a new time.")
        c.caller("What? No, I wanted to move it, not cancel it.", barge=True)
        c.flag(
            "wrong_tool",
            "Caller asked to reschedule; the agent called cancel_appointment and told them to call back, "
            "instead of check_availability then book. Caller had to push back to get a new slot.",
            major=True,
        )
        _book(
            c,
            service,
            location,
            ask="I'm sorry for the confusion. What day would you like instead?",
            summary=f"Agent cancelled {old} instead of rescheduling it; after the caller objected, a "
            f"new {{service}} was booked for {{when}}.",
        )
        return
    _book(
        c,
        service,
        location,
        ask=f"{_acknowledge(c)}I see your {service[0]} at our {location} office, confirmation {old}. "
        "What day would work better?",
        summary=f"Moved a {{service}} ({old}) to {{when}} at {{location}}; the original slot was cancelled.",
    )
    if c.calls and c.calls[-1]["status"] == "succeeded" and c.calls[-1]["name"] == "book_appointment":
        c.use_tool(
            "cancel_appointment",
            {"confirmation": old, "reason": "rescheduled"},
            {"confirmation": old, "status": "cancelled"},
        )
        c.agent(f"And I've cancelled the original appointment, {old}.")
        c.good.append("booked the new slot before cancelling the old one")


def _scheduling_cancel(c: _Call) -> None:
    service, location = c.pick(_SERVICES), c.pick(_LOCATIONS)
    old = _confirmation(c)
    c.tag("cancellation")
    c.topic = f"cancelling a {service[0]}"
    if not c.asr_trouble_opening("_scheduling_cancel"):
        c.caller(c.pick([f"Hi, I need to cancel my {service[0]}.", "Hi, I'd like to cancel an appointment."]))
    _verify(c)
    if c.issue in ("missed_escalation", "human"):
        _wants_human(c)
    late = c.chance(0.45)
    c.agent(
        f"{_acknowledge(c)}I see a {service[0]} at the {location} office, confirmation {old}. Is that "
        "the one?"
        + (" Just so you know, it's within 24 hours, so there's a $25 late cancellation fee." if late else "")
    )
    if late and c.angry:
        c.caller("Twenty five dollars? You're kidding me. I'm not paying that.")
        if c.issue == "policy_violation":
            c.agent("I understand. I'll waive it this one time.")
            c.flag(
                "policy_violation",
                "Agent waived the $25 late-cancellation fee on its own; only front-desk staff may waive "
                "fees.",
                major=True,
            )
            fee = 0
        else:
            c.agent(
                "I hear you. I'm not able to waive it myself, but I can note your request for the front desk "
                "to review."
            )
            c.caller("Fine. Note it.")
            c.good.append("held the fee policy politely")
            fee = 25
    else:
        c.caller(c.pick(["Yes, that's the one.", "Yep.", "That's it."]))
        fee = 25 if late else 0
    c.use_tool(
        "cancel_appointment",
        {"confirmation": old, "reason": "caller request"},
        {"confirmation": old, "status": "cancelled", "fee": fee},
    )
    c.agent("That's cancelled. You'll get a confirmation text shortly.")
    c.summary = f"Cancelled {service[0]} {old}" + (f" with a ${fee} late fee." if fee else ".")


def _scheduling_reminder(c: _Call) -> None:
    """Outbound: the clinic calls to confirm tomorrow's appointment."""
    service, location = c.pick(_SERVICES), c.pick(_LOCATIONS)
    when = c.pick(["08:30", "10:15", "13:00", "15:30"])
    c.tag("reminder")
    c.outbound = True
    c.agent(
        f"Hi, this is Ava, an automated assistant from Brightside Clinic, calling for {c.person.first}. "
        f"I'm calling to confirm your {service[0]} tomorrow at {_clock(when)}.",
        gap=c.rng.randint(600, 1400),
    )
    c.caller(c.pick(["Oh, hi. Yes, this is " + c.person.first + ".", "Yes, speaking.", "Hi, yes."]))
    c.agent(f"Great. Will you be able to make it tomorrow at {_clock(when)} at our {location} office?")
    if c.chance(0.7):
        c.caller(c.pick(["Yes, I'll be there.", "Yep, see you then.", "Yes, I will."]))
        c.agent("Perfect. Please arrive ten minutes early and bring your insurance card.")
        c.caller("Will do. Thanks.")
        c.agent("Thank you. See you tomorrow!")
        c.summary = f"Reminder call: {c.person.first} confirmed tomorrow's {service[0]} at {_clock(when)}."
        return
    c.caller("Actually, I can't make it. Can I move it?")
    c.topic = f"moving tomorrow's {service[0]}"
    old = _confirmation(c)
    _book(
        c,
        service,
        location,
        ask="Of course. What day would suit you better?",
        summary="Reminder call: the patient couldn't make tomorrow's {service} and moved it to {when}.",
    )
    if c.calls and c.calls[-1]["status"] == "succeeded" and c.calls[-1]["name"] == "book_appointment":
        c.use_tool(
            "cancel_appointment",
            {"confirmation": old, "reason": "rescheduled"},
            {"confirmation": old, "status": "cancelled"},
        )
    c.agent("Thanks for letting us know. See you then!")


# --------------------------------------------------------------------------------------------------
# Support
# --------------------------------------------------------------------------------------------------


def _account_result(c: _Call, status: str) -> dict:
    return {
        "account_id": f"acc_{_hex(c.rng, 8)}",
        "status": status,
        "plan": c.pick(["basic", "plus", "plus", "business"]),
        "failed_logins": c.rng.randint(3, 7) if status == "locked" else 0,
        "member_since": str(c.rng.randint(2016, 2025)),
    }


def _support_password(c: _Call) -> None:
    c.tag("password-reset")
    c.topic = "being locked out of their account"
    if not c.asr_trouble_opening("_support_password"):
        c.caller(
            c.pick(
                [
                    "Hi, I'm locked out of my account.",
                    "I forgot my password and now it says my account is locked.",
                    "Hi, I can't log in. I've tried resetting it three times.",
                ]
            )
            if not c.angry
            else "I've been locked out of my account for two days and your reset emails never arrive. Fix it."
        )
    if c.issue in ("missed_escalation", "human"):
        _verify(c)
        _wants_human(c)
    if c.pii in ("email_spoken", "email_written"):
        c.agent("I can help with that. What's the email address on the account?")
        c.caller(_pii_line(c, c.pii))
        c.tag("pii")
    elif c.pii:
        _verify(c)
        c.agent(_acknowledge(c) + "And the email on the account? Just the part before the at sign is fine.")
        c.caller(f"{c.person.email_spoken_local}.")
    else:
        c.agent(
            "I can help with that. What's the username or email on the account? Just the part before "
            "the @ is fine."
        )
        c.caller(f"It's {c.person.email_spoken_local}.")
    c.agent("Thanks, looking you up.")
    account = c.use_tool("lookup_account", {"email": c.person.email}, _account_result(c, "locked"))
    c.agent(
        "I see the account. It was locked after several failed sign-in attempts. I can send a reset link to "
        "the email on file. Does that work?"
    )
    if c.chance(0.25):
        _still_there(c, "Shall I send the reset link to the email on file?")
    c.caller(c.pick(["Yes, please.", "Yes, that's fine.", "Please."]))
    masked = f"{c.person.email_local[0]}***@{c.person.email_domain}.com"
    args = {"account_id": account["account_id"], "method": "email"}
    if c.issue == "wrong_tool":
        c.tool(
            "lookup_account",
            {"email": c.person.email, "include": "security"},
            {**account, "mfa": "sms"},
        )
        c.agent(f"Done, I've sent the reset link to {masked}. It's valid for thirty minutes.")
        c.caller("Okay, I'll watch for it.")
        c.flag(
            "wrong_tool",
            "Agent called lookup_account a second time instead of reset_password, then told the caller "
            "a reset link was on its way. No email was sent.",
            major=True,
        )
        c.flag("hallucination", "Claimed the reset email was sent.", major=True)
        c.summary = "Locked-out caller was told a reset link was sent, but reset_password was never called."
        return
    c.use_tool("reset_password", args, {"status": "sent", "sent_to": masked, "expires_in_minutes": 30})
    c.agent(
        f"I've sent a reset link to {masked}. It's valid for thirty minutes, and it also unlocks the account."
    )
    if c.angry:
        c.caller("And if it doesn't show up like the last three times?")
        c.agent(
            "Check your spam folder for a message from no-reply at acme. If it's not there in ten "
            "minutes, call back and we'll reset it by text."
        )
    else:
        c.caller("Got it, I see it. Thanks!")
    c.summary = (
        c.summary or "Account was locked after failed logins; a reset link was sent and the account unlocked."
    )
    c.good.append("verified the account before resetting")


def _support_account(c: _Call) -> None:
    c.tag("account")
    question, answer, topic = c.pick(
        [
            (
                "How do I change the email address on my account?",
                "Go to Account, then Profile, and choose Change email; we'll send a code to confirm.",
                "changing the account email",
            ),
            (
                "I want to downgrade my plan. Can I do that over the phone?",
                "I can't change plans on the phone, but under Account, then Plan, you can switch; the "
                "new price starts next cycle.",
                "downgrading the plan",
            ),
            (
                "Why does my account say it's on hold?",
                "It was put on hold because the last payment didn't go through. Updating your card will "
                "clear it.",
                "an account hold",
            ),
        ]
    )
    if c.xss:
        question = (
            f"Something weird is going on. My profile name on the website shows up as {XSS_SCRIPT}. "
            "Was I hacked?"
        )
        topic = "a defaced profile name"
        c.tag("security")
    c.topic = topic
    if not c.asr_trouble_opening("_support_account", f" {question}"):
        c.caller(f"Hi, quick question. {question}")
    _verify(c)
    if c.issue in ("missed_escalation", "human"):
        _wants_human(c)
    if c.issue == "unnecessary_escalation":
        c.summary = f"Caller asked about {topic}; the agent transferred instead of answering."
        c.flag(
            "unnecessary_escalation",
            f"Simple question about {topic}, answerable from the help centre; the agent transferred to "
            "support-tier2 anyway. Cost a tier-2 slot and a wait for the caller.",
            major=False,
        )
        c.transfer(
            "account change request",
            "For account changes I'll connect you with one of our specialists. One moment, please.",
        )
    result = _account_result(c, "active")
    if c.xss:
        result = {**result, "display_name": XSS_IMG, "profile_updated_at": c.started_local.date().isoformat()}
    c.agent(_acknowledge(c) + "Let me check your account.")
    c.use_tool("lookup_account", c.account_key(), result)
    if c.xss:
        c.agent(
            "I can see your display name was changed to some code yesterday. I've reset it, signed out "
            "all your sessions and flagged it for our security team. Please change your password as well."
        )
        c.caller("Okay, I'll do that right away. Thank you.")
        c.summary = (
            "Caller's profile display name contained injected markup; agent reset it and flagged security."
        )
        c.good.append("treated the odd display name as a security issue")
        return
    c.agent(answer)
    c.caller(c.pick(["Perfect, that's easy.", "Oh, okay. Thanks.", "Great, I'll do that."]))
    c.summary = f"Caller asked about {topic}; agent explained the steps."
    c.good.append("answered from the account details without a transfer")


def _support_shipping(c: _Call) -> None:
    order = _order(c)
    carrier, tracking = _tracking(c)
    missing = c.chance(0.3)
    c.tag("shipping")
    c.topic = (
        f"their {order['item']} marked delivered but not received"
        if missing
        else f"where their {order['item']} is"
    )
    if not c.asr_trouble_opening(
        "_support_shipping", " It says delivered, but it never came." if missing else ""
    ):
        if missing:
            c.caller(
                f"My {order['item']} says delivered but there's nothing here. I've checked with the "
                "neighbours."
                if not c.angry
                else f"Your tracking says my {order['item']} was delivered. It wasn't. This is the second "
                "package you've lost this month."
            )
        else:
            c.caller(
                c.pick(
                    [
                        f"Hi, where's my {order['item']}? It was supposed to be here by now.",
                        "Hi, I'm trying to track a package.",
                    ]
                )
            )
    _verify(c)
    if c.issue in ("missed_escalation", "human"):
        _wants_human(c)
    _ask_order(c, order)
    c.agent("Let me check the tracking.")
    eta = c.started_local.date() + dt.timedelta(days=c.rng.randint(1, 3))
    result = {
        "carrier": carrier,
        "tracking_number": tracking,
        "status": "delivered" if missing else "in_transit",
        "last_scan": c.pick(_SCAN_CITIES),
        "eta": None if missing else eta.isoformat(),
    }
    if c.issue == "wrong_tool":
        c.tool("lookup_account", c.account_key(), _account_result(c, "active"))
        c.agent(
            "Everything looks fine on your account, and the order is on its way. It should arrive in a "
            "few days."
        )
        c.caller("Okay... but it said delivered?" if missing else "Okay, I guess I'll wait.")
        c.flag(
            "wrong_tool",
            "Agent called lookup_account instead of track_shipment and then described the delivery "
            "status from nothing. Never looked at the tracking.",
            major=True,
        )
        c.flag("hallucination", "'It's on its way' was not backed by any tool result.", major=True)
        c.summary = f"Caller asked about order {order['id']}; agent never tracked it and guessed the status."
        return
    c.use_tool("track_shipment", {"order_id": order["id"]}, result)
    if not missing:
        c.agent(
            f"It's with {carrier}, last scanned in {result['last_scan']}, and due {_day_phrase(eta)}. I "
            "can text you the tracking link if you like."
        )
        c.caller(c.pick(["Yes please, that'd be great.", "No, that's fine. Thanks."]))
        c.summary = f"Order {order['id']} is in transit with {carrier}; caller given the delivery date."
        c.good.append("gave carrier, last scan and ETA")
        return
    c.tag("lost-package")
    c.agent(
        f"I'm sorry. {carrier} marked it delivered, last scanned in {result['last_scan']}. Since it's "
        "missing, I'll have our claims team open a replacement for you."
    )
    if c.angry:
        c.caller("I don't want a claim. I want my stuff. Can you just resend it?")
    c.summary = (
        f"Order {order['id']} marked delivered but not received; transferred to open a lost-package claim."
    )
    c.transfer(
        "lost package claim",
        "Lost-package replacements go through a specialist, so I'm transferring you now with your order "
        "details. It'll be quick.",
    )


# --------------------------------------------------------------------------------------------------
# Session assembly
# --------------------------------------------------------------------------------------------------

_SCENARIOS = {
    "billing-agent": [
        (_billing_double_charge, 0.45),
        (_billing_refund, 0.33),
        (_billing_charge_question, 0.22),
    ],
    "scheduling-agent": [
        (_scheduling_book, 0.42),
        (_scheduling_reschedule, 0.28),
        (_scheduling_cancel, 0.16),
        (_scheduling_reminder, 0.14),
    ],
    "support-agent": [(_support_password, 0.35), (_support_account, 0.25), (_support_shipping, 0.40)],
}

# The scripted mistakes each scenario can make, with weights for v11 and v12.
_ISSUES = {
    _billing_double_charge: {
        "wrong_refund_amount": (3.0, 0.6),
        "cents_refund": (1.5, 0.5),
        "hallucinated_refund": (2.0, 1.0),
        "asr_order": (1.0, 1.0),
        "missed_escalation": (1.0, 0.4),
    },
    _billing_refund: {
        "policy_violation": (3.0, 0.4),
        "wrong_refund_amount": (1.5, 0.4),
        "hallucinated_refund": (1.0, 0.8),
        "asr_order": (1.0, 1.0),
        "missed_escalation": (0.8, 0.3),
    },
    _billing_charge_question: {"hallucinated_charge": (2.0, 1.0), "missed_escalation": (1.0, 0.5)},
    _scheduling_book: {
        "asr_day": (2.0, 1.2),
        "hallucinated_booking": (1.2, 1.0),
        "missed_escalation": (0.6, 0.6),
    },
    _scheduling_reschedule: {
        "wrong_tool": (2.0, 1.0),
        "asr_day": (1.5, 1.0),
        "hallucinated_booking": (0.8, 0.8),
    },
    _scheduling_cancel: {"policy_violation": (1.5, 1.0), "missed_escalation": (0.6, 0.6)},
    _scheduling_reminder: {"asr_day": (1.0, 1.0)},
    _support_password: {"wrong_tool": (1.5, 1.2), "missed_escalation": (1.2, 1.0)},
    _support_account: {"unnecessary_escalation": (1.2, 3.5), "missed_escalation": (0.8, 0.8)},
    _support_shipping: {"wrong_tool": (1.5, 1.3), "missed_escalation": (1.0, 0.8)},
}
# Share of calls with a scripted mistake.
_ISSUE_RATE = {
    ("billing-agent", "v11"): 0.42,
    ("billing-agent", "v12"): 0.08,
    ("scheduling-agent", "v11"): 0.24,
    ("scheduling-agent", "v12"): 0.17,
    ("support-agent", "v11"): 0.17,
    ("support-agent", "v12"): 0.24,
}


def _pick_weighted(rng: random.Random, options: list[tuple], weights: list[float]):
    return rng.choices(options, weights=weights, k=1)[0]


def _review(c: _Call, rng: random.Random) -> DemoReview:
    reviewer = REVIEWERS[1] if rng.random() < 0.2 else REVIEWERS[0]
    categories = list(dict.fromkeys(issue.category for issue in c.issues))
    if any(issue.major for issue in c.issues):
        verdict, score = "fail", rng.choice([1, 2, 2])
    elif c.issues:
        verdict, score = "needs_work", rng.choice([2, 3, 3, 3, 4])
    else:
        verdict, score = "pass", rng.choice([4, 5, 5])
    if verdict == "pass":
        points = c.good[:2] or ["handled the request end to end"]
        opener = rng.choice(["Clean call.", "Good call.", "No issues.", "Solid."])
        extra = rng.choice(
            [
                "",
                " Tone was friendly and concise.",
                " Latency fine throughout.",
                " Could have been a little shorter, but nothing to flag.",
            ]
        )
        notes = f"{opener} Agent {' and '.join(points)}.{extra}"
    else:
        seen, parts = set(), []
        for issue in c.issues:
            if issue.note not in seen:
                seen.add(issue.note)
                parts.append(issue.note)
        follow = {
            "fail": [
                " Adding to the regression set.",
                " Flagging for the prompt owner.",
                " Sent to the agent team; this one would have reached a customer complaint.",
                "",
            ],
            "needs_work": [" Minor.", " Not a blocker.", " Keep an eye on this pattern.", ""],
        }[verdict]
        notes = " ".join(parts) + rng.choice(follow)
    return DemoReview(
        verdict=verdict, score=score, failure_categories=categories, notes=notes, reviewer=reviewer
    )


def _pii_kinds(scenario) -> list[str]:
    if scenario is _scheduling_reminder:
        return []
    spoken_and_written = ["phone_spoken", "phone_written", "email_spoken", "email_written"]
    if scenario is _billing_double_charge:
        return [*spoken_and_written, "card", "card", "card"]
    if scenario in (_support_password, _support_account):
        return [*spoken_and_written, "email_spoken", "ssn", "ssn"]
    return spoken_and_written


def _slow_answers(c: _Call) -> int:
    return sum(
        1
        for prev, turn in pairwise(c.turns)
        if turn["role"] == "agent" and prev["role"] == "caller" and turn["start_ms"] - prev["end_ms"] > 3000
    )


def _build(
    rng: random.Random,
    *,
    agent_key: str,
    version: str,
    model: str,
    started_local: dt.datetime,
    xss: bool,
    pii_turns: Counter,
) -> _Call:
    scenarios = _SCENARIOS[agent_key]
    if xss:
        scenario = _support_account
    else:
        scenario = _pick_weighted(rng, [s for s, _ in scenarios], [w for _, w in scenarios])
    rate = _ISSUE_RATE[(agent_key, version)] * (1.3 if model == "gpt-4o-mini-realtime" else 1.0)
    options = _ISSUES[scenario]
    issue = None
    if not xss and rng.random() < rate:
        names = list(options)
        issue = _pick_weighted(rng, names, [options[name][0 if version == "v11" else 1] for name in names])
    c = _Call(
        rng=rng,
        agent_key=agent_key,
        version=version,
        model=model,
        person=_person(rng),
        started_local=started_local,
        issue=issue,
        angry=not xss and rng.random() < 0.16,
        interrupts=rng.random() < 0.3,
        laggy=not xss and rng.random() < 0.05,
        xss=xss,
    )
    kinds = _pii_kinds(scenario)
    if kinds and rng.random() < 0.35:
        # In turn rather than at random, so every kind shows up in even a small demo.
        c.pii = kinds[pii_turns[scenario.__name__] % len(kinds)]
        pii_turns[scenario.__name__] += 1
    inbound = scenario is not _scheduling_reminder
    if issue is None and not xss and inbound:
        # Not mistakes: callers who want a person, and lines too noisy to understand.
        roll = rng.random()
        if roll < 0.1:
            c.issue = "human"
        elif roll < 0.135:
            c.issue = "asr_failures"
    c.mumble_opening = c.issue is None and inbound and rng.random() < 0.1
    c.clock = rng.randint(250, 900)
    try:
        if inbound:
            _greeting(c)
        if c.issue == "asr_failures":
            c.caller(c.pick(["Hi, yeah, I'm calling about", "Hello? Hi, it's about my"]), barge=False)
            _asr_failures(c)
        scenario(c)
        if inbound:
            _closing(c)
    except _CallOver as over:
        if over.closing:
            _closing(c)
    if c.laggy and not any(issue.category == "tts_or_latency" for issue in c.issues):
        slow = _slow_answers(c)
        if slow:
            c.flag(
                "tts_or_latency",
                f"{slow} agent response{'s' if slow > 1 else ''} took over 3 s; the caller had to check "
                "the line was still up.",
                major=False,
            )
            c.tag("slow-response")
    return c


# --------------------------------------------------------------------------------------------------
# Payloads
# --------------------------------------------------------------------------------------------------


# When a call has more than three tags, the first ones here are kept.
_TAG_ORDER = [
    "dropped-call", "escalated", "angry-caller", "double-charge", "lost-package", "security", "asr-issue",
    "tool-error", "vip", "refund", "appointment", "reschedule", "cancellation", "reminder", "password-reset",
    "account", "shipping", "billing-question", "human-requested", "abandoned", "slow-response", "pii",
]  # fmt: skip


def _iso(moment: dt.datetime) -> str:
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _truncate(c: _Call, keep: int) -> None:
    """Keep the first ``keep`` turns (an unfinished or dropped call) and what happened by then."""
    del c.turns[keep:]
    end = c.turns[-1]["end_ms"]
    c.clock, c.pending_ms = end, 0
    c.calls[:] = [call for call, at in zip(c.calls, c.call_times, strict=True) if at <= end]
    for seq, call in enumerate(c.calls):
        call["seq"] = seq
    if c.escalation and c.escalation[1] > end:
        c.escalation = None


def _hour_slots(now: dt.datetime) -> tuple[list[dt.datetime], list[float]]:
    """Hourly slots over the window (oldest first) and their cumulative weights."""
    top = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    slots = [top - dt.timedelta(hours=h) for h in range(WINDOW_DAYS * 24 - 2, -1, -1)]
    cumulative, total = [], 0.0
    for slot in slots:
        local = slot.astimezone(_LOCAL)
        total += _HOUR_WEIGHTS[local.hour] * (1.0 if local.weekday() < 5 else _WEEKEND_WEIGHT)
        cumulative.append(total)
    return slots, cumulative


def _unique_hex(rng: random.Random, prefix: str, seen: set[str]) -> str:
    while True:
        value = prefix + _hex(rng, 32)
        if value not in seen:
            seen.add(value)
            return value


def generate_demo_sessions(*, count: int = 240, seed: int = 7, now: dt.datetime) -> list[DemoSession]:
    """``count`` demo calls from the last ``WINDOW_DAYS`` days before ``now``, oldest first.

    The same ``seed`` and ``now`` always give the same list, and the same ``seed`` the same stream ids
    whatever ``now``. About 92% of the calls are completed, 6% failed (the media stream dropped) and
    2% are still in progress; about 45% of the completed ones are reviewed.
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    now = now.astimezone(dt.UTC)
    rng = random.Random(seed)
    if count <= 0:
        return []
    slots, cumulative = _hour_slots(now)
    xss_index = rng.randrange(count)
    # Ids come from their own stream, drawn before anything that depends on ``now``: the n-th session
    # of a seed keeps its stream_id on every run, so seeding again updates the sessions in place.
    id_rng = random.Random(rng.getrandbits(64))
    ids: set[str] = set()
    pii_turns: Counter = Counter()
    sessions: list[tuple[dt.datetime, int, DemoSession]] = []
    for index in range(count):
        xss = index == xss_index
        roll = rng.random()
        status = "completed" if xss or roll >= 0.08 else ("active" if roll < 0.02 else "failed")
        if status == "active":
            started = now - dt.timedelta(seconds=rng.randint(30, 600))
        else:
            started = rng.choices(slots, cum_weights=cumulative, k=1)[0] + dt.timedelta(
                seconds=rng.uniform(0, 3600)
            )
        started = started.replace(microsecond=started.microsecond // 1000 * 1000)
        agent_key = "support-agent" if xss else rng.choices(AGENTS, weights=_AGENT_WEIGHTS, k=1)[0]
        age_days = (now - started).total_seconds() / 86400
        v12_share = 0.65 if age_days < V12_ROLLOUT_DAYS_AGO else 0.12
        version = "v12" if rng.random() < v12_share else "v11"
        model = MODELS[1] if rng.random() < 0.35 else MODELS[0]
        c = _build(
            rng,
            agent_key=agent_key,
            version=version,
            model=model,
            started_local=started.astimezone(_LOCAL),
            xss=xss,
            pii_turns=pii_turns,
        )
        if status != "completed" and len(c.turns) < 8:
            status = "completed"
        if status == "failed":
            _truncate(c, rng.randint(6, len(c.turns) - 2))
            last = c.turns[-1]
            words = last["text"].split()
            if last["role"] != "system" and len(words) >= 4:
                keep = max(2, len(words) * 3 // 5)
                last["text"] = " ".join(words[:keep]).rstrip(",.;:!?") + "—"
                last["end_ms"] = last["start_ms"] + (last["end_ms"] - last["start_ms"]) * keep // len(words)
                last["interrupted"] = True
                c.clock = max(turn["end_ms"] for turn in c.turns)
            c.system(
                c.pick(
                    [
                        "Media stream closed unexpectedly (websocket 1006).",
                        "Realtime session error: server_error from model provider; stream closed.",
                        "Carrier dropped the call (SIP 487).",
                    ]
                )
            )
            about = f" about {c.topic}" if c.topic else ""
            c.summary = f"Call{about} dropped mid-conversation; the stream closed before it was resolved."
            c.tags = [*c.tags[:1], "dropped-call"]
            c.angry = False
        elif status == "active":
            elapsed_ms = int((now - started).total_seconds() * 1000)
            keep = sum(1 for turn in c.turns if turn["end_ms"] <= elapsed_ms)
            _truncate(c, min(len(c.turns) - 1, max(6, keep)))
            # However far the script got, the call is live: it started just long enough ago.
            started = now - dt.timedelta(milliseconds=c.turns[-1]["end_ms"] + rng.randint(1500, 9000))
            started = started.replace(microsecond=started.microsecond // 1000 * 1000)
            c.summary = ""
        duration_ms = c.turns[-1]["end_ms"] + rng.randint(400, 2500)
        ended = started + dt.timedelta(milliseconds=duration_ms)
        if status != "active" and ended > now:
            shift = ended - now + dt.timedelta(seconds=rng.randint(60, 900))
            started, ended = started - shift, ended - shift

        cfg = _AGENT_CONFIG[agent_key]
        tts, voice = rng.choice(cfg["voices"])
        outbound = c.outbound
        customer = "+1" + c.person.phone
        tier = "vip" if rng.random() < 0.08 else "standard"
        tags = [*c.tags, *(["vip"] if tier == "vip" else []), *(["angry-caller"] if c.angry else [])]
        tags.sort(key=lambda name: _TAG_ORDER.index(name) if name in _TAG_ORDER else len(_TAG_ORDER))
        tags = list(dict.fromkeys(tags))[: rng.choice([1, 2, 3, 3])] if rng.random() < 0.92 else []
        if status == "active":
            tags = []  # tagged when the call ends
        metadata = {
            "campaign": "appointment-reminders" if outbound else rng.choice(cfg["campaigns"]),
            "twilio_region": "us1",
            "customer_tier": tier,
            "gateway_version": "2.4.1" if version == "v11" else "2.5.0",
        }
        payload = {
            "stream_id": _unique_hex(id_rng, "MZ", ids),
            "call_sid": _unique_hex(id_rng, "CA", ids),
            "agent_key": agent_key,
            "status": status,
            "direction": "outbound" if outbound else "inbound",
            "from_number": cfg["line"] if outbound else customer,
            "to_number": customer if outbound else cfg["line"],
            "started_at": _iso(started),
            "ended_at": None if status == "active" else _iso(ended),
            "model": {
                "provider": "openai",
                "name": model,
                "prompt_version": version,
                "params": {
                    "temperature": 0.6 if version == "v12" else 0.8,
                    "max_response_output_tokens": 1024,
                    "turn_detection": "server_vad",
                },
            },
            "voice": {"provider": tts, "voice": voice, "stt": "deepgram-nova-3", "language": "en-US"},
            "transcript": c.turns,
            "function_calls": c.calls,
            "escalation": {
                "escalated": c.escalation is not None,
                "reason": c.escalation[0] if c.escalation else None,
                "at_ms": c.escalation[1] if c.escalation else None,
            },
            "summary": c.summary,
            "tags": tags,
            "metadata": metadata,
        }
        review = None
        if status == "completed" and rng.random() < (0.56 if c.issues else 0.4):
            review = _review(c, rng)
        sessions.append((started, index, DemoSession(payload=payload, review=review)))
    sessions.sort(key=lambda item: (item[0], item[1]))
    return [session for _, _, session in sessions]
