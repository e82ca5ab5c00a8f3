"""PII detection and redaction for speech-to-text call transcripts and tool payloads.

What is found: phone numbers, email addresses, payment card numbers and US social security numbers,
in written form ("(415) 555-0132", "jane.doe@example.com") and in the shapes speech-to-text produces
("four one five, five five five, oh one three two", "jane dot doe at example dot com").

Approach
--------
* Numbers. The text is cut into alphanumeric tokens. Consecutive tokens that stand for digits (numerals,
  "zero".."nine", "oh"/"o", "double five", "thirty two", "eight hundred", ...) separated only by spaces,
  commas, dots, dashes or parentheses form a *digit run*. STT renders one spoken number in many ways
  ("415 five five five 0132"), so digits are judged on the run, not on the surface form. A run is
  classified on its digit count plus the words around it:
    - 13-19 digits passing Luhn -> card;
    - 10 digits, or 11 starting with 1 -> phone; 7 digits -> phone only after a phone word ("number",
      "call me", "cell", ...);
    - 9 digits -> SSN when written 3-2-4 ("123-45-6789") or near "social"/"SSN", invalid SSNs excluded.
  An identifier word just before the run ("order", "tracking", "confirmation", "account", ...) vetoes
  the phone reading unless a phone noun ("phone", "cell") is also near or the digits are punctuated like
  a phone (415-555-0132). When the whole run is not PII, the run is split at pauses (commas) into
  groups that each must be PII on their own ("123-45-6789, 415-555-0132"), and as a last resort up to
  four stray digits are trimmed off its ends ("... oh one three two, 2 pm"; card + expiry is allowed
  seven). Sub-windows are otherwise not searched: every extra window is another chance for a random
  order number to pass Luhn or look like a phone.
* ``phonenumbers.PhoneNumberMatcher`` (region US) also runs on texts with seven or more numerals; it
  brings international/E.164 forms ("+44 20 7946 0958") and exact spans for punctuated numbers. Its
  matches get the same identifier-word veto.
* Emails. Written addresses by regex. Spoken ones are anchored on "at"/"@" followed by a domain that
  ends in a known TLD after "dot" or "." ("gmail dot com", "acme dot co dot uk"): the TLD requirement is
  what keeps "meet at noon" out. The local part is then grown leftwards over tokens ("john dot smith",
  "maria underscore lopez", "j smith", spelled letters) and stops at function words ("is", "my",
  "email", ...).
* Overlaps resolve card > phone > email > SSN, then longest first.
* ``redact_value`` walks JSON-like data. A dict key gives context: sensitive keys ("phone", "email",
  "card_number", "ssn", "from", "to", ...) mask the whole value; other keys are prefixed to string
  values as context so {"order_id": "5821344219"} is not read as a phone.

Known limits
------------
* English number words only; no "to"/"for"/"won" homophones, no non-US SSN/ID formats, no street
  addresses, names or dates of birth.
* A 10-digit number with no identifier word nearby is called a phone, even if it is an order number
  read out in a turn of its own. A 7-digit phone needs a phone word in the same text.
* A Luhn-valid 13-19 digit identifier is a card (1 in 10 random numbers pass Luhn); identifier words
  only veto it when it does not start like a card (2-6).
* Spoken local parts are guessed: "john smith at gmail dot com" includes "john smith", but a local part
  of more than two plain words is cut to the last two.
* Context is the text itself (one turn); a number whose "what's your phone?" was in the previous turn is
  judged without it (10/11-digit numbers need no context, 7-digit ones do).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

import phonenumbers

PLACEHOLDERS = {"phone": "[PHONE]", "email": "[EMAIL]", "card": "[CARD]", "ssn": "[SSN]"}

# Lower wins when spans overlap: a 16-digit card must never surface as a phone plus leftovers.
_PRIORITY = {"card": 0, "phone": 1, "email": 2, "ssn": 3}


@dataclass(frozen=True)
class PiiSpan:
    kind: str
    start: int
    end: int


# --------------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------------

_ONES = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_ONES_1_9 = {w: d for w, d in _ONES.items() if d != "0"}
_TEENS = {
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
}
_TENS = {
    "twenty": "2",
    "thirty": "3",
    "forty": "4",
    "fourty": "4",
    "fifty": "5",
    "sixty": "6",
    "seventy": "7",
    "eighty": "8",
    "ninety": "9",
}
_REPEAT = {"double": 2, "triple": 3}
_SCALE = {"hundred": "00", "thousand": "000"}
# Hesitations STT keeps verbatim; they sit inside a number being read out and mark a pause.
_FILLERS = {"uh", "um", "umm", "uhh", "uhm", "er", "erm", "ah", "hmm", "mm"}
_NUMBER_WORDS = set(_ONES) | set(_TEENS) | set(_TENS) | set(_REPEAT)

# Words that say the digits that follow are an identifier, not a phone number.
_ID_WORDS = {
    "order",
    "orders",
    "tracking",
    "track",
    "confirmation",
    "invoice",
    "account",
    "acct",
    "reference",
    "ref",
    "ticket",
    "case",
    "claim",
    "policy",
    "member",
    "membership",
    "transaction",
    "receipt",
    "serial",
    "model",
    "part",
    "sku",
    "item",
    "booking",
    "reservation",
    "shipment",
    "package",
    "rma",
    "po",
    "id",
    "code",
    "pin",
    "routing",
    "zip",
    "zipcode",
    "postal",
    "customer",
    "loyalty",
    "rewards",
    "voucher",
    "coupon",
    "promo",
    "authorization",
    "auth",
    "ups",
    "fedex",
    "usps",
}
# Nouns that name a phone: they win over an identifier word anywhere in the window
# ("the phone number on my account is ...").
_PHONE_NOUNS = {"phone", "phones", "cell", "cellphone", "mobile", "telephone", "landline", "fax", "callback"}
# Words that point at a phone only when they are the closest clue ("call me at", "my number is").
_PHONE_WORDS = _PHONE_NOUNS | {"call", "reach", "text", "dial", "contact", "ring", "number", "digits", "area"}
_SSN_WORDS = {"social", "ssn", "socials", "ss"}
_CARD_WORDS = {"card", "visa", "mastercard", "amex", "credit", "debit", "cc"}

_CONTEXT_BEFORE = 8
_CONTEXT_AFTER = 4
# Stray digits tolerated at the ends of a run ("..., 2 pm"); a card may carry expiry + CVV.
_MAX_TRIM = 4
_MAX_CARD_TRIM = 7

_TOKEN_RE = re.compile(r"\[(?:PHONE|EMAIL|CARD|SSN)\]|[A-Za-z0-9]+")
# What may separate two digit tokens of one spoken/written number.
_GAP_RE = re.compile(r"[ \t,.\-()+]{1,5}")
_DIGIT_RE = re.compile(r"[0-9]")
# Cheap gate: without a numeral or a number word there is no digit run to analyse.
_DIGITISH_RE = re.compile(
    r"[0-9]|\b(?:" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_PHONE_SHAPE_RE = re.compile(r"(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]*\d{3}[\s.-]+\d{4}")
_SSN_SHAPE_RE = re.compile(r"\d{3}([- ])\d{2}\1\d{4}")

# --------------------------------------------------------------------------------------------------
# Email vocabulary
# --------------------------------------------------------------------------------------------------

_TLDS = (
    "com|net|org|edu|gov|mil|info|biz|io|co|us|uk|ca|de|fr|es|it|nl|au|nz|ie|in|jp|ch|se|br|mx|me|ai|app"
    "|dev|tv|ly"
)
_DOT = r"(?:\.|\s+(?:dot|period|point)\s+)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_SPOKEN_LABEL = rf"{_LABEL}(?:\s+(?:dash|hyphen)\s+{_LABEL})*"
_WRITTEN_EMAIL_RE = re.compile(
    r"(?<![\w.+-])[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b",
    re.IGNORECASE,
)
# Anchored at "at"/"@": the domain (with its TLD) is the reliable half of a spoken address.
_SPOKEN_DOMAIN_RE = re.compile(
    rf"(?:(?<=\s)at\s+|\s*@\s*)({_SPOKEN_LABEL}(?:{_DOT}{_SPOKEN_LABEL})*(?:{_DOT}(?:{_TLDS})|\s+dotcom)\b)",
    re.IGNORECASE,
)
_EMAIL_GATE_RE = re.compile(r"@|\sat\s", re.IGNORECASE)
_LOCAL_TOKEN_RE = re.compile(r"\S+")
_LOCAL_ATOM_RE = re.compile(r"[a-z0-9](?:[a-z0-9._+-]*[a-z0-9])?")
_LOCAL_CONNECTORS = {"dot", "period", "point", "underscore", "dash", "hyphen", "minus", "plus"}
# Words that end a spoken local part when walking left from "at".
_LOCAL_STOP = {
    "a", "i", "an", "the", "is", "was", "are", "be", "been", "it", "its", "that", "this", "thats", "my",
    "your", "our", "his", "her", "their", "me", "us", "him", "them", "you", "we", "they", "to", "at",
    "on", "in", "for", "from", "of", "by", "with", "and", "or", "but", "so", "if", "as", "via", "email",
    "emails", "emailed", "emailing", "mail", "e-mail", "address", "send", "sent", "sending", "use",
    "using", "try", "under", "reach", "contact", "write", "here", "there", "work", "works", "working",
    "look", "looking", "okay", "ok", "yes", "yeah", "no", "uh", "um", "please", "just", "also", "sure",
    "correct", "right", "account", "still", "should", "would", "could", "can", "will", "then", "now",
    "new", "old", "got", "get", "have", "has", "had", "do", "did", "called", "spelled", "like", "say",
    "said", "name", "go", "going", "went", "call", "text", "am", "im", "shop", "shopped", "ordered",
    "bought", "purchased", "found", "saw", "see", "visit", "visited", "logged", "log", "signed", "sign",
    "online", "site", "website", "page", "checked", "check", "registered", "listed", "file", "one",
    "up", "out", "either", "both", "not", "only", "change", "changed", "update", "updated", "over",
}  # fmt: skip
_MAX_LOCAL_WORDS = 2


# --------------------------------------------------------------------------------------------------
# Small predicates
# --------------------------------------------------------------------------------------------------


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _valid_ssn(d: str) -> bool:
    area, group, serial = d[:3], d[3:5], d[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _nanp(d10: str) -> bool:
    # Area code and exchange never start with 0 or 1: rules out most accidental windows and timestamps.
    return d10[0] not in "01" and d10[3] not in "01"


def _looks_like_card_int(d: str) -> bool:
    return 13 <= len(d) <= 19 and d[0] in "23456" and len(set(d)) > 1 and _luhn(d)


# --------------------------------------------------------------------------------------------------
# Context around a number
# --------------------------------------------------------------------------------------------------


class _Context:
    __slots__ = ("card", "id", "phone", "phone_noun", "ssn")

    def __init__(self, toks: list[tuple[int, int, str]], first: int, last: int):
        before = [t[2] for t in toks[max(0, first - _CONTEXT_BEFORE) : first]]
        after = [t[2] for t in toks[last + 1 : last + 1 + _CONTEXT_AFTER]]
        decision = None
        # The closest clue wins: "order number is X" is an id, "my number is X" a phone.
        for k in range(len(before) - 1, -1, -1):
            w = before[k]
            if w in _ID_WORDS:
                decision = "phone" if w == "code" and k and before[k - 1] == "area" else "id"
                break
            if w in _PHONE_WORDS:
                decision = "phone"
                if w in ("number", "digits") and k:
                    p1 = before[k - 1]
                    p2 = before[k - 2] if k > 1 else ""
                    if p1 in _ID_WORDS or (p1 in ("s", "id") and p2 in _ID_WORDS):
                        decision = "id"
                break
        self.phone_noun = any(w in _PHONE_NOUNS for w in before)
        if self.phone_noun:
            decision = "phone"
        if decision is None and any(w in _ID_WORDS for w in after):
            decision = "id"
        self.id = decision == "id"
        self.phone = decision == "phone"
        self.ssn = any(w in _SSN_WORDS for w in before) or any(w in _SSN_WORDS for w in after)
        if not self.ssn:
            joined = " ".join(before + after)
            self.ssn = "s s n" in joined or "social security" in joined
        self.card = any(w in _CARD_WORDS for w in before)


# --------------------------------------------------------------------------------------------------
# Digit runs
# --------------------------------------------------------------------------------------------------


class _Unit:
    """One token (or a word pair such as "double five") standing for one or more digits."""

    __slots__ = ("digits", "end", "first_tok", "last_tok", "numeric", "start")

    def __init__(self, start, end, digits, numeric, first_tok, last_tok):
        self.start = start
        self.end = end
        self.digits = digits
        self.numeric = numeric
        self.first_tok = first_tok
        self.last_tok = last_tok


def _is_space(gap: str) -> bool:
    return bool(gap) and not gap.strip(" \t-")


def _digit_runs(text: str, toks: list[tuple[int, int, str]]) -> list[tuple[list[_Unit], list[bool]]]:
    """Group digit-bearing tokens into runs; returns (units, pause-before-each-unit) pairs."""
    runs: list[tuple[list[_Unit], list[bool]]] = []
    units: list[_Unit] = []
    pauses: list[bool] = []
    last_end = 0
    pending_pause = False
    n = len(toks)
    i = 0
    while i < n:
        s, e, w = toks[i]
        digits = None
        j = i
        if w.isdigit():
            digits = w
        elif w in _ONES:
            # "3 o'clock" is not "30".
            if not (w == "o" and text[e : e + 1] == "'"):
                digits = _ONES[w]
        elif w in _TEENS:
            digits = _TEENS[w]
        elif w in _TENS:
            digits = _TENS[w] + "0"
            if i + 1 < n and toks[i + 1][2] in _ONES_1_9 and _is_space(text[e : toks[i + 1][0]]):
                digits = _TENS[w] + _ONES_1_9[toks[i + 1][2]]
                j = i + 1
        elif w in _REPEAT and i + 1 < n:
            nxt = toks[i + 1][2]
            d = _ONES.get(nxt) or (nxt if len(nxt) == 1 and nxt.isdigit() else None)
            if d and _is_space(text[e : toks[i + 1][0]]):
                digits = d * _REPEAT[w]
                j = i + 1
        elif w in _SCALE:
            if units and units[-1].last_tok == i - 1 and _is_space(text[units[-1].end : s]):
                units[-1].digits += _SCALE[w]
                units[-1].end = e
                units[-1].last_tok = i
                last_end = e
                i += 1
                continue
        elif w in _FILLERS and units:
            if _GAP_RE.fullmatch(text[last_end:s]):
                last_end = e
                pending_pause = True
                i += 1
                continue
        if digits is None:
            if units:
                runs.append((units, pauses))
                units, pauses = [], []
            pending_pause = False
            i += 1
            continue
        pause = False
        if units:
            gap = text[last_end:s]
            if _GAP_RE.fullmatch(gap):
                pause = pending_pause or "," in gap or "." in gap
            else:
                runs.append((units, pauses))
                units, pauses = [], []
        end = toks[j][1]
        units.append(_Unit(s, end, digits, w.isdigit(), i, j))
        pauses.append(pause)
        last_end = end
        pending_pause = False
        i = j + 1
    if units:
        runs.append((units, pauses))
    return runs


class _RunClassifier:
    def __init__(self, text: str, toks: list[tuple[int, int, str]], units: list[_Unit], pauses: list[bool]):
        self.text = text
        self.units = units
        self.pauses = pauses
        self.prefix = [0]
        for u in units:
            self.prefix.append(self.prefix[-1] + len(u.digits))
        start = units[0].start
        # An international "+44 ..." is the matcher's job; its digits must not be read as a card.
        self.plus = text[max(0, start - 2) : start].rstrip().endswith("+")
        self.ctx = _Context(toks, units[0].first_tok, units[-1].last_tok)

    def digits(self, i: int, j: int) -> str:
        return "".join(u.digits for u in self.units[i:j])

    def kind(self, i: int, j: int, trimmed: bool = False) -> str | None:
        d = self.digits(i, j)
        n = len(d)
        ctx = self.ctx
        if 13 <= n <= 19:
            if self.plus or len(set(d)) == 1 or not _luhn(d):
                return None
            if trimmed and (n not in (15, 16) or d[0] not in "3456"):
                return None
            if d[0] in "23456" or ctx.card or not ctx.id:
                return "card"
            return None
        if n == 9:
            if not _valid_ssn(d):
                return None
            if ctx.ssn:
                return "ssn"
            raw = self.text[self.units[i].start : self.units[j - 1].end]
            m = _SSN_SHAPE_RE.fullmatch(raw)
            if m and not (ctx.id and m.group(1) == " "):
                return "ssn"
            return None
        if n == 10 or (n == 11 and d[0] == "1"):
            if trimmed and not _nanp(d[-10:]):
                return None
            if ctx.id and not _PHONE_SHAPE_RE.fullmatch(
                self.text[self.units[i].start : self.units[j - 1].end]
            ):
                return None
            return "phone"
        if n == 7 and ctx.phone and not (trimmed and d[0] in "01"):
            return "phone"
        return None

    def candidates(self) -> list[tuple[str, int, int]]:
        m = len(self.units)
        total = self.prefix[-1]
        if total < 7:
            return []
        whole = self.kind(0, m)
        if whole:
            return [(whole, 0, m)]
        found = self._by_pauses()
        if found:
            return found
        return self._trimmed()

    def _by_pauses(self) -> list[tuple[str, int, int]]:
        # Pause-delimited chunks regrouped so that every PII group is exact ("SSN, phone" in one run).
        bounds = [0] + [k for k in range(1, len(self.units)) if self.pauses[k]] + [len(self.units)]
        if len(bounds) < 3:
            return []
        nb = len(bounds)
        best: list[tuple[int, list[tuple[str, int, int]]] | None] = [None] * nb
        best[0] = (0, [])
        for b in range(1, nb):
            for a in range(b):
                prev = best[a]
                if prev is None:
                    continue
                i, j = bounds[a], bounds[b]
                kind = self.kind(i, j)
                score = prev[0] + (self.prefix[j] - self.prefix[i] if kind else 0)
                if best[b] is None or score > best[b][0]:
                    best[b] = (score, prev[1] + ([(kind, i, j)] if kind else []))
        return best[-1][1] if best[-1] else []

    def _trimmed(self) -> list[tuple[str, int, int]]:
        m = len(self.units)
        total = self.prefix[-1]
        best = None
        for i in range(m):
            left = self.prefix[i]
            if left > _MAX_CARD_TRIM:
                break
            for j in range(m, i, -1):
                right = total - self.prefix[j]
                if left + right == 0:
                    continue
                if left + right > _MAX_CARD_TRIM:
                    break
                n = self.prefix[j] - self.prefix[i]
                if n < 7:
                    break
                kind = self.kind(i, j, trimmed=True)
                if kind is None or (kind != "card" and left + right > _MAX_TRIM):
                    continue
                if kind == "card" and left:
                    continue
                if best is None or n > best[0]:
                    best = (n, kind, i, j)
        return [(best[1], best[2], best[3])] if best else []


# --------------------------------------------------------------------------------------------------
# Detectors
# --------------------------------------------------------------------------------------------------


def _number_spans(text: str, toks: list[tuple[int, int, str]]) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    for units, pauses in _digit_runs(text, toks):
        if len(units) == 1 and len(units[0].digits) < 7:
            continue
        clf = _RunClassifier(text, toks, units, pauses)
        for kind, i, j in clf.candidates():
            start, end = units[i].start, units[j - 1].end
            if kind == "phone":
                start = _extend_phone_start(text, start, end)
            spans.append(PiiSpan(kind, start, end))
    return spans


def _extend_phone_start(text: str, start: int, end: int) -> int:
    # Take the "(" of "(415) 555-0132" and the "+" of "+1 415 ..." so no stray punctuation is left.
    if start and text[start - 1] == "(" and ")" in text[start:end]:
        start -= 1
    if start and text[start - 1] == "+":
        start -= 1
    return start


def _matcher_spans(text: str, toks: list[tuple[int, int, str]]) -> list[PiiSpan]:
    spans = []
    starts = [t[0] for t in toks]
    for match in phonenumbers.PhoneNumberMatcher(text, "US"):
        raw = match.raw_string
        first = max(0, bisect_right(starts, match.start) - 1)
        last = max(first, bisect_right(starts, match.end - 1) - 1)
        if not raw.startswith("+"):
            ctx = _Context(toks, first, last)
            if ctx.id and not _PHONE_SHAPE_RE.fullmatch(raw):
                continue
        spans.append(PiiSpan("phone", match.start, match.end))
    return spans


def _email_spans(text: str) -> list[PiiSpan]:
    spans = [PiiSpan("email", m.start(), m.end()) for m in _WRITTEN_EMAIL_RE.finditer(text)]
    for m in _SPOKEN_DOMAIN_RE.finditer(text):
        start = _local_part_start(text, m.start())
        if start is not None:
            spans.append(PiiSpan("email", start, m.end()))
    return spans


def _local_part_start(text: str, at: int) -> int | None:
    """Walk left from "at" over the spoken local part; None when there is none."""
    window_start = max(0, at - 160)
    toks = list(_LOCAL_TOKEN_RE.finditer(text, window_start, at))
    if window_start and toks:
        toks = toks[1:]  # possibly cut in half by the window
    start = None
    pending_connector = None  # a connector is only kept once an atom is found to its left
    need_atom = True
    plain_words = 0
    for k in range(len(toks) - 1, -1, -1):
        tok = toks[k]
        raw = tok.group()
        if raw[-1] in ",;:!?\"')]":
            break
        word = raw.lstrip("\"'([")
        stripped = len(word) != len(raw)
        w = word.lower()
        single = len(w) == 1 or w in _ONES
        if need_atom:
            if not _LOCAL_ATOM_RE.fullmatch(w):
                break
            if w in _LOCAL_STOP and not (w in ("a", "i", "one") and _single_letter_neighbour(toks, k)):
                break
            start = tok.start() + (len(raw) - len(word))
            pending_connector = None
            need_atom = False
            if not single:
                plain_words += 1
        elif w in _LOCAL_CONNECTORS and not stripped:
            pending_connector = tok.start()
            need_atom = True
        elif (
            _LOCAL_ATOM_RE.fullmatch(w)
            and (w not in _LOCAL_STOP or (w in ("a", "i") and _single_letter_neighbour(toks, k)))
            and (single or plain_words < _MAX_LOCAL_WORDS)
        ):
            start = tok.start() + (len(raw) - len(word))
            if not single:
                plain_words += 1
        else:
            break
        if stripped:
            break
    return start


def _single_letter_neighbour(toks, k: int) -> bool:
    # "a"/"i" are letters only inside spelled-out names ("m a r i a").
    return any(0 <= x < len(toks) and len(toks[x].group()) == 1 for x in (k - 1, k + 1))


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def find_pii(text: str) -> list[PiiSpan]:
    """Non-overlapping PII spans in ``text``, sorted by start."""
    if not text or not isinstance(text, str):
        return []
    candidates: list[PiiSpan] = []
    if _EMAIL_GATE_RE.search(text):
        candidates.extend(_email_spans(text))
    if _DIGITISH_RE.search(text):
        toks = [(m.start(), m.end(), m.group().lower()) for m in _TOKEN_RE.finditer(text)]
        candidates.extend(_number_spans(text, toks))
        if len(_DIGIT_RE.findall(text)) >= 7:
            candidates.extend(_matcher_spans(text, toks))
    if not candidates:
        return []
    return _resolve(candidates)


def _resolve(candidates: list[PiiSpan]) -> list[PiiSpan]:
    # Same-kind detections of one number (matcher + run) are merged first so their union is masked.
    merged: list[PiiSpan] = []
    for span in sorted(candidates, key=lambda s: (s.kind, s.start)):
        if merged and merged[-1].kind == span.kind and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = PiiSpan(span.kind, last.start, max(last.end, span.end))
        else:
            merged.append(span)
    merged.sort(key=lambda s: (_PRIORITY[s.kind], s.start - s.end))
    kept: list[PiiSpan] = []
    for span in merged:
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    kept.sort(key=lambda s: s.start)
    return kept


def redact_text(text: str | None) -> str | None:
    """``text`` with every PII span replaced by its placeholder; None and "" pass through."""
    if not text or not isinstance(text, str):
        return text
    return _apply(text, find_pii(text))


def _apply(text: str, spans: list[PiiSpan]) -> str:
    if not spans:
        return text
    out = []
    pos = 0
    for span in spans:
        out.append(text[pos : span.start])
        out.append(PLACEHOLDERS[span.kind])
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def redact_phone_number(number: str | None) -> str | None:
    """Caller/callee numbers are PII whatever their format: any non-empty value is masked."""
    if not number:
        return number
    return PLACEHOLDERS["phone"]


# --------------------------------------------------------------------------------------------------
# JSON-like values
# --------------------------------------------------------------------------------------------------

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_KEY_SEP_RE = re.compile(r"[\s\-.]+")
_SENSITIVE_KEYS = [
    ("card", re.compile(r"(?:^|_)(?:cc|cc_?num(?:ber)?|(?:credit|debit)_?card(?:_?num(?:ber)?)?|card_?(?:num(?:ber)?|no)|card|pan)$")),
    ("ssn", re.compile(r"(?:^|_)(?:ssn|social|social_?security(?:_?num(?:ber)?)?)$")),
    ("email", re.compile(r"(?:^|_)(?:e_?mail|e_?mail_?address)$")),
    (
        "phone",
        re.compile(
            r"^(?:from|to)$|(?:^|_)(?:phone|phone_?num(?:ber)?|telephone|tel|mobile|mobile_?num(?:ber)?|cell"
            r"|cell_?phone|cellphone|msisdn|from_?num(?:ber)?|to_?num(?:ber)?|caller_?num(?:ber)?|caller_?id"
            r"|callback_?num(?:ber)?|contact_?num(?:ber)?|ani|dnis)$"
        ),
    ),
]  # fmt: skip
# Integers under these keys are counters, ids and clocks, never phones or cards.
_NUMERIC_KEY_WORDS = _ID_WORDS | {
    "ms", "ts", "timestamp", "time", "epoch", "duration", "seconds", "secs", "count", "amount", "price",
    "total", "qty", "quantity", "seq", "size", "version", "offset", "limit", "at", "bytes", "cents",
}  # fmt: skip


def _key_words(key: str) -> list[str]:
    return [w for w in _KEY_SEP_RE.sub("_", _CAMEL_RE.sub("_", key)).lower().split("_") if w]


def _sensitive_kind(words: list[str]) -> str | None:
    norm = "_".join(words)
    for kind, pattern in _SENSITIVE_KEYS:
        if pattern.search(norm):
            return kind
    return None


def redact_value(value):
    """A redacted copy of JSON-like ``value``: strings scanned, sensitive keys masked, keys kept."""
    return _redact(value, None)


def _redact(value, key_words: list[str] | None):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            words = _key_words(k) if isinstance(k, str) else None
            kind = _sensitive_kind(words) if words else None
            if kind and not isinstance(v, bool) and ((isinstance(v, str) and v) or isinstance(v, int)):
                out[k] = PLACEHOLDERS[kind]
            else:
                out[k] = _redact(v, words)
        return out
    if isinstance(value, list):
        return [_redact(v, key_words) for v in value]
    if isinstance(value, tuple):
        return tuple(_redact(v, key_words) for v in value)
    if isinstance(value, str):
        return _redact_keyed_text(value, key_words)
    if isinstance(value, int) and not isinstance(value, bool):
        return _redact_int(value, key_words)
    return value


def _redact_keyed_text(text: str, key_words: list[str] | None) -> str:
    if not text:
        return text
    if not key_words:
        return _apply(text, find_pii(text))
    # The key is the number's only context in structured data ({"order_id": "5821344219"}); it is put in
    # front as a label and the spans are shifted back.
    lead = " ".join(key_words) + ": "
    spans = [
        PiiSpan(s.kind, max(0, s.start - len(lead)), s.end - len(lead))
        for s in find_pii(lead + text)
        if s.end > len(lead)
    ]
    return _apply(text, spans)


def _redact_int(value: int, key_words: list[str] | None):
    if key_words and any(w in _NUMERIC_KEY_WORDS for w in key_words):
        return value
    d = str(abs(value))
    if _looks_like_card_int(d):
        return PLACEHOLDERS["card"]
    if len(d) == 10 and _nanp(d):
        return PLACEHOLDERS["phone"]
    if len(d) == 11 and d[0] == "1" and _nanp(d[1:]):
        return PLACEHOLDERS["phone"]
    return value
