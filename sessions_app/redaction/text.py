"""PII detection and redaction for speech-to-text call transcripts and tool payloads.

Found: phone numbers, email addresses, payment card numbers and US social security numbers, written
("(415) 555-0132", "jane.doe@example.com") and in the shapes speech-to-text produces ("four one five,
five five five, oh one three two", "jane dot doe at example dot com").

Approach
--------
1. Emails first. Written addresses by regex. Spoken ones are anchored on "at"/"@" followed by a domain
   ending in a known TLD after "dot" or "." ("gmail dot com", "acme dot co dot uk"): the TLD is what
   keeps "meet at noon" out. The local part is grown leftwards over tokens ("john dot smith", "maria
   underscore lopez", "j smith", spelled letters) and stops at function words ("is", "my", "email",
   "order", ...) and at long numbers. An email's tokens are then out of reach of the number detectors.
2. ``phonenumbers.PhoneNumberMatcher`` (region US) runs when seven numerals stand close together. It
   brings international/E.164 forms ("+44 20 7946 0958"); for US numbers its matches must be grouped
   like a written phone (3-3-4) and are vetoed by identifier words as below. Matched numbers are taken
   out of the next step.
3. Digit runs. Consecutive tokens that stand for digits (numerals, "zero".."nine", "oh"/"o", "double
   five", "thirty two", "eight hundred") separated only by spaces, commas, dots, dashes, parentheses or
   hesitations ("uh", spoken "dash") form a run. STT renders one number in many ways ("415 five five
   five 0132"), so a run is judged on its digits and the words around it, not its surface form:
     - 13-19 digits passing Luhn -> card;
     - 10 digits, or 11 starting with 1 -> phone; 7 digits -> phone only after a phone word ("number",
       "call me", "cell", ...); numerals must be grouped like a phone ("58213, 58214" is a list);
     - 9 digits -> SSN when written 3-2-4 ("123-45-6789") or near "social"/"SSN"; invalid SSNs
       (area 000/666/9xx, group 00, serial 0000) excluded.
   An identifier word governing the run ("order number is", "tracking", "confirmation", "account", ...)
   vetoes the phone reading unless a phone noun ("phone", "cell") is also near or the digits are
   punctuated like a phone (415-555-0132). When the whole run is not PII it is split at pauses (commas)
   into groups that must each be PII exactly ("123-45-6789, 415-555-0132"); failing that, up to four
   stray digits may be trimmed off its ends ("... oh one three two, 2 pm"), seven after a card (expiry
   and CVV). Other sub-windows are not searched: each extra window is another chance for an order
   number to pass Luhn or look like a phone. Amounts ("$129.99", "49.99") break runs.
4. Overlaps resolve email > card > phone > SSN, then longest first.

Redaction is idempotent. Context windows skip numbers and placeholders, and whatever is left of a run
around a detection is judged again as the run of its own it becomes once the placeholder is in; for the
rare case where PhoneNumberMatcher reads a number differently once its neighbour is a placeholder,
``redact_text`` repeats until a pass finds nothing (in practice one pass, two when there was PII).

``redact_value`` walks JSON-like data. Sensitive keys ("phone", "email", "card_number", "ssn", "from",
"to", ...) mask the whole value; other keys are put in front of their string values as context, so
{"order_id": "5821344219"} is not read as a phone.

Known limits
------------
* English number words only; no "to"/"for"/"won" homophones; no non-US SSN or ID formats; no names,
  street addresses or dates of birth.
* A 10-digit number with no identifier word in the same text is called a phone, even an order number
  read out in a turn of its own. A 7-digit phone needs a phone word in the same text: context is one
  turn, so "what's your number?" in the previous turn does not count.
* A Luhn-valid 13-19 digit identifier is a card (1 in 10 random numbers pass Luhn); an identifier
  word only vetoes it when it does not start like a card (2-6).
* Spoken local parts are guessed: "john smith at gmail dot com" is taken whole, but of more than two
  plain words only the last two are; "john at gmail" (no TLD) is not an email.
* Web addresses read as "<word> at <site> dot com" are emails unless the word is a known verb or
  function word ("shop at", "look at", "order at").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

import phonenumbers

PLACEHOLDERS = {"phone": "[PHONE]", "email": "[EMAIL]", "card": "[CARD]", "ssn": "[SSN]"}

# Lower wins when spans overlap: a 16-digit card must never surface as a phone plus leftovers. Emails
# claim their characters before numbers are looked at, so they only meet the matcher here
# ("4155550132@gmail.com").
_PRIORITY = {"email": 0, "card": 1, "phone": 2, "ssn": 3}


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
# Hesitations STT keeps verbatim, and the separators people say aloud ("one two three dash four five"):
# they sit inside a number being read out and mark a pause.
_FILLERS = {"uh", "um", "umm", "uhh", "uhm", "er", "erm", "ah", "hmm", "mm", "dash", "hyphen"}
_NUMBER_WORDS = set(_ONES) | set(_TEENS) | set(_TENS) | set(_REPEAT)

# Words that say the digits that follow are an identifier, not a phone number.
_ID_WORDS = {
    "order", "orders", "tracking", "track", "confirmation", "invoice", "account", "acct", "reference",
    "ref", "ticket", "case", "claim", "policy", "member", "membership", "transaction", "receipt", "serial",
    "model", "part", "sku", "item", "booking", "reservation", "shipment", "package", "rma", "po", "id",
    "code", "pin", "routing", "zip", "zipcode", "postal", "customer", "loyalty", "rewards", "voucher",
    "coupon", "promo", "authorization", "auth", "ups", "fedex", "usps", "batch", "badge", "lot", "patient",
    "employee", "student", "vin", "flight", "room", "suite", "unit", "extension", "ext", "upc", "isbn",
    "imei", "license", "tax",
}  # fmt: skip
# Nouns that name a phone: they win over an identifier word anywhere in the window
# ("the phone number on my account is ...").
_PHONE_NOUNS = {"phone", "phones", "cell", "cellphone", "mobile", "telephone", "landline", "fax", "callback"}
# Words that point at a phone only when they are the closest clue ("call me at", "my number is").
_PHONE_WORDS = _PHONE_NOUNS | {"call", "reach", "text", "dial", "contact", "ring", "number", "digits", "area"}
_LINKING_WORDS = {
    "number", "numbers", "no", "num", "id", "code", "is", "was", "s", "it", "its", "that", "thats", "the",
    "my", "your", "our", "this", "of", "for", "on", "be", "should", "will", "would", "please", "i", "think",
    "um", "uh", "like", "so", "yeah", "okay", "ok", "er", "again", "here", "sorry", "new", "old",
}  # fmt: skip
_AFTER_LINKS = {"is", "was", "s", "that", "thats", "its", "it"}
_SSN_WORDS = {"social", "ssn", "socials", "ss"}
_CARD_WORDS = {"card", "visa", "mastercard", "amex", "credit", "debit", "cc"}

_NON_CONTEXT = _NUMBER_WORDS | set(_SCALE) | _FILLERS
_CONTEXT_BEFORE = 8
_CONTEXT_AFTER = 4
_CONTEXT_SCAN = 80
# Stray digits tolerated at the ends of a run ("..., 2 pm"); a card may carry expiry + CVV.
_MAX_TRIM = 4
_MAX_CARD_TRIM = 7

_TOKEN_RE = re.compile(r"\[(?:PHONE|EMAIL|CARD|SSN)\]|[A-Za-z0-9]+")
# What may separate two digit tokens of one spoken/written number.
_GAP_RE = re.compile(r"[ \t,.\-()+]{1,5}")
# Cheap gate: without a numeral or a number word there is no digit run to analyse.
_DIGITISH_RE = re.compile(
    r"[0-9]|\b(?:" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
# Amounts are never PII, and "49.99, 59.99, 69.99" read as one run would look like a phone.
_MONEY_RE = re.compile(r"\$\s?\d[\d,]*(?:\.\d+)?|(?<![\d.,])\d[\d,]*\.\d\d(?![\d.])")
# Seven numerals close together: below that PhoneNumberMatcher cannot find anything, so it is skipped.
_MATCHER_GATE_RE = re.compile(r"(?:\d[\s().+\-]{0,3}){7}")
# Punctuated like a phone ("(415) 555-0132", "415-555-0132"): an order number is not written this way, a
# space-separated "884 221 0193" may be either.
_PHONE_SHAPE_RE = re.compile(r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s*\d{3}[\s.-]|\d{3}([.-])\d{3}\1)\d{4}")
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
# STT splits a company domain into words ("mercy health dot org"); at most three.
_FIRST_LABEL = rf"{_SPOKEN_LABEL}(?:\s+(?!(?:dot|period|point|at|and|or|the|to)\b){_LABEL}){{0,2}}"
_WRITTEN_EMAIL_RE = re.compile(
    r"(?<![\w.+-])[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b",
    re.IGNORECASE,
)
# Anchored at "at"/"@": the domain (with its TLD) is the reliable half of a spoken address.
_SPOKEN_DOMAIN_RE = re.compile(
    rf"(?:(?<=\s)at\s+|@\s*)({_FIRST_LABEL}(?:{_DOT}{_SPOKEN_LABEL})*(?:{_DOT}(?:{_TLDS})|\s+dotcom)\b)",
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
    "order", "orders", "purchase", "login", "password", "store", "placed", "processed", "located",
    "posted", "booked", "shipped", "returned", "charged", "billed", "filed", "submitted",
    "created", "made", "done", "available", "hosted", "published", "live", "met", "stuff", "everything",
    "something", "anything", "nothing", "there's", "details", "status", "info's", "help", "shopping",
    "browsing", "ordering", "checking", "buying", "purchasing", "staying", "living", "signing", "logging",
    "booking", "paying", "paid", "sold", "selling",
}  # fmt: skip
_MAX_LOCAL_WORDS = 2


# --------------------------------------------------------------------------------------------------
# Small predicates
# --------------------------------------------------------------------------------------------------


def _us_grouping(lengths: list[int], leading_one: bool) -> bool:
    """Digit groups as a US number is written: [1,] 3, then groups of at most 4 (or one 7)."""
    if len(lengths) > 1 and leading_one and lengths[0] == 1:
        lengths = lengths[1:]
    return len(lengths) == 1 or (lengths[0] == 3 and all(x <= 4 or x == 7 for x in lengths[1:]))


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


def _context_words(toks: list[tuple[int, int, str]], indices: range, limit: int) -> list[str]:
    # Numbers, amounts and found PII do not count towards the window: once redacted they collapse into a
    # single placeholder, and the window must reach the same words on a second pass (idempotence).
    words = []
    for scanned, k in enumerate(indices):
        if scanned == _CONTEXT_SCAN:
            break  # bounds the cost on number-only text; far beyond any single PII's token count
        w = toks[k][2]
        if w[0] in "[$" or w.isdigit() or w in _NON_CONTEXT:
            continue
        words.append(w)
        if len(words) == limit:
            break
    return words


class _Context:
    __slots__ = ("card", "id", "phone", "phone_noun", "ssn")

    def __init__(self, toks: list[tuple[int, int, str]], first: int, last: int):
        before = _context_words(toks, range(first - 1, -1, -1), _CONTEXT_BEFORE)[::-1]
        after = _context_words(toks, range(last + 1, len(toks)), _CONTEXT_AFTER)
        decision = None
        # The closest clue wins: "order number is X" is an id, "my number is X" a phone. An id word only
        # governs the number when nothing but linking words stands between them: in "text the tracking
        # link to X" it is about something else.
        linked = True
        for k in range(len(before) - 1, -1, -1):
            w = before[k]
            if w in _ID_WORDS:
                if w == "code" and k and before[k - 1] == "area":
                    decision = "phone"
                    break
                if linked:
                    decision = "id"
                    break
            elif w in _PHONE_WORDS:
                decision = "phone"
                if w in ("number", "digits") and k:
                    p1 = before[k - 1]
                    p2 = before[k - 2] if k > 1 else ""
                    if p1 in _ID_WORDS or (p1 in ("s", "id") and p2 in _ID_WORDS):
                        decision = "id"
                break
            if w not in _LINKING_WORDS:
                linked = False
        self.phone_noun = any(w in _PHONE_NOUNS for w in before)
        if self.phone_noun:
            decision = "phone"
        if decision is None and after and after[0] in _AFTER_LINKS:
            # "5821344219 is my order number"
            for w in after[1:]:
                if w in _ID_WORDS:
                    decision = "id"
                    break
                if w not in _LINKING_WORDS:
                    break
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
        elif w in _FILLERS and units and _GAP_RE.fullmatch(text[last_end:s]):
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
        self.ctx = _Context(toks, units[0].first_tok, units[-1].last_tok)

    def plus(self, i: int) -> bool:
        start = self.units[i].start
        return self.text[max(0, start - 2) : start].rstrip().endswith("+")

    def digits(self, i: int, j: int) -> str:
        return "".join(u.digits for u in self.units[i:j])

    def kind(self, i: int, j: int, trimmed: bool = False) -> str | None:
        d = self.digits(i, j)
        n = len(d)
        ctx = self.ctx
        if 13 <= n <= 19:
            # An international "+44 ..." is the matcher's job; its digits must not be read as a card.
            if self.plus(i) or len(set(d)) == 1 or not _luhn(d):
                return None
            # A trimmed window must look like a real card: 16 digits, or an Amex 15.
            if trimmed and not ((n == 16 and d[0] in "3456") or (n == 15 and d[:2] in ("34", "37"))):
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
            if not self._phone_grouping(i, j):
                return None
            if ctx.id and not _PHONE_SHAPE_RE.fullmatch(
                self.text[self.units[i].start : self.units[j - 1].end]
            ):
                return None
            return "phone"
        if n == 7 and ctx.phone and not (trimmed and d[0] in "01") and self._phone_grouping(i, j):
            return "phone"
        return None

    def _phone_grouping(self, i: int, j: int) -> bool:
        """Numerals grouped as a phone is written: 3 then groups of at most 4 ("415 555 0132").

        "58213, 58214" or "0 12345 67890 5" are lists and codes. Runs with number words are not judged:
        spoken digits come one per token.
        """
        units = self.units[i:j]
        if len(units) == 1 or not all(u.numeric for u in units):
            return True
        lengths: list[int] = []
        single_run = False  # "4 1 5 5 5 5 0 1 3 2": single digits read one by one form one group
        for u in units:
            if len(u.digits) == 1 and single_run:
                lengths[-1] += 1
            else:
                lengths.append(len(u.digits))
                single_run = len(u.digits) == 1
        return _us_grouping(lengths, units[0].digits == "1")

    def candidates(self, lo: int, hi: int) -> list[tuple[str, int, int]]:
        """PII windows within units[lo:hi].

        What is left over around a window is classified again as if it were a run of its own, because
        after redaction it is one (the placeholder breaks the run): that keeps redaction idempotent.
        """
        if self.prefix[hi] - self.prefix[lo] < 7:
            return []
        if self.plus(lo) and self.prefix[hi] - self.prefix[lo] > 11:
            return []  # international: PhoneNumberMatcher knows the numbering plans
        whole = self.kind(lo, hi)
        if whole:
            return [(whole, lo, hi)]
        found = self._by_pauses(lo, hi) or self._trimmed(lo, hi)
        if not found:
            return []
        out = []
        pos = lo
        for kind, i, j in found:
            out.extend(self.candidates(pos, i))
            out.append((kind, i, j))
            pos = j
        out.extend(self.candidates(pos, hi))
        return out

    def _by_pauses(self, lo: int, hi: int) -> list[tuple[str, int, int]]:
        # Pause-delimited chunks regrouped so that every PII group is exact ("SSN, phone" in one run).
        bounds = [lo] + [k for k in range(lo + 1, hi) if self.pauses[k]] + [hi]
        if len(bounds) < 3:
            return []
        # best[b]: most PII digits covered by chunks before bounds[b], and the groups achieving it. A
        # group is either one junk chunk or consecutive chunks forming one PII (at most 19 digits), which
        # keeps this linear in the number of chunks.
        nb = len(bounds)
        score = [0] * nb
        back: list[tuple[int, str | None]] = [(0, None)] * nb  # (previous bound, kind of the group)
        for b in range(1, nb):
            j = bounds[b]
            score[b], back[b] = score[b - 1], (b - 1, None)
            for a in range(b - 1, -1, -1):
                covered = self.prefix[j] - self.prefix[bounds[a]]
                if covered > 19:
                    break
                if score[a] + covered > score[b]:
                    kind = self.kind(bounds[a], j)
                    if kind:
                        score[b], back[b] = score[a] + covered, (a, kind)
        groups = []
        b = nb - 1
        while b:
            a, kind = back[b]
            if kind:
                groups.append((kind, bounds[a], bounds[b]))
            b = a
        return groups[::-1]

    def _trimmed(self, lo: int, hi: int) -> list[tuple[str, int, int]]:
        best = None
        for i in range(lo, hi):
            left = self.prefix[i] - self.prefix[lo]
            if left > _MAX_CARD_TRIM:
                break
            for j in range(hi, i, -1):
                right = self.prefix[hi] - self.prefix[j]
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
                    continue  # a card is read first; only expiry/CVV may follow it
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
        for kind, i, j in clf.candidates(0, len(units)):
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


def _matcher_spans(text: str, toks: list[tuple[int, int, str]], emails: list[PiiSpan]) -> list[PiiSpan]:
    spans = []
    starts = [t[0] for t in toks]
    for match in phonenumbers.PhoneNumberMatcher(text, "US"):
        raw = match.raw_string
        if any(e.start < match.end and match.start < e.end for e in emails):
            continue
        first = max(0, bisect_right(starts, match.start) - 1)
        last = max(first, bisect_right(starts, match.end - 1) - 1)
        if any(toks[k][2] == "$" for k in range(first, last + 1)):
            continue  # "415.55 1111 1": an amount is never part of a phone
        if _inside_card(text, match.start, match.end):
            continue
        groups = _DIGITS_RE.findall(raw)
        if not raw.startswith("+") and not _us_grouping([len(g) for g in groups], groups[0] == "1"):
            # The matcher also accepts "11-22-33-44. 0566"; a US number a person wrote is grouped 3-3-4.
            continue
        if not raw.startswith("+"):
            ctx = _Context(toks, first, last)
            if ctx.id and not _PHONE_SHAPE_RE.fullmatch(raw):
                continue
        spans.append(PiiSpan("phone", match.start, match.end))
    return spans


def _inside_card(text: str, start: int, end: int) -> bool:
    """Whether the digits around [start, end) read as one Luhn-valid card number."""
    # A card spans at most 19 digits plus separators, so looking further is pointless.
    lo = max(0, start - 24)
    hi = min(len(text), end + 24)
    while start > lo and text[start - 1] in _CARD_CHARS:
        start -= 1
    while end < hi and text[end] in _CARD_CHARS:
        end += 1
    digits = "".join(ch for ch in text[start:end] if ch.isdigit())
    return 13 <= len(digits) <= 19 and _luhn(digits)


_CARD_CHARS = frozenset("0123456789 -")
_DIGITS_RE = re.compile(r"[0-9]+")


def _email_spans(text: str) -> list[PiiSpan]:
    spans = [PiiSpan("email", m.start(), m.end()) for m in _WRITTEN_EMAIL_RE.finditer(text)]
    for m in _SPOKEN_DOMAIN_RE.finditer(text):
        if m.group(1)[:4].lower() in ("www ", "www."):
            continue  # a web address read out, not a mailbox
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
    need_atom = True
    plain_words = 0
    digit_weight = 0
    before_numbers = None  # where the span started before the current stretch of numbers
    in_numbers = False
    for k in range(len(toks) - 1, -1, -1):
        tok = toks[k]
        raw = tok.group()
        if raw[-1] in ",;:!?\"')]":
            # STT often puts a comma before "at" after a spelled name ("R O B E R T, at ...").
            if not (need_atom and start is None and raw[-1] == "," and len(raw) > 1):
                break
            raw = raw[:-1]
        word = raw.lstrip("\"'([")
        stripped = len(word) != len(raw)
        w = word.lower()
        numeric = w.isdigit() or w in _NUMBER_WORDS or w in _SCALE
        if numeric:
            # "chris seventy two at ..." is an address; "4111 1111 1111 1111 at amazon dot com" is a card
            # used on a web site, and the email must not swallow it: a long number ends the local part.
            if not in_numbers:
                before_numbers = start
                in_numbers = True
            digit_weight += len(w) if w.isdigit() else 1
            if digit_weight > 4:
                return before_numbers
        elif w not in _LOCAL_CONNECTORS:
            in_numbers = False
        single = len(w) == 1 or numeric
        if need_atom:
            if not _LOCAL_ATOM_RE.fullmatch(w):
                break
            # After "dot"/"underscore" any word belongs to the address ("bob underscore the underscore ...").
            if (
                start is None
                and w in _LOCAL_STOP
                and not (w in ("a", "i") and _single_letter_neighbour(toks, k))
                and not (k and toks[k - 1].group().lower() in _LOCAL_CONNECTORS)  # "jane plus orders at"
            ):
                break
            start = tok.start() + (len(raw) - len(word))
            need_atom = False
            if not single:
                plain_words += 1
        elif w in _LOCAL_CONNECTORS and not stripped:
            # Left out of the span until an atom is found to its left.
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


def _tokens(text: str, emails: list[PiiSpan]) -> list[tuple[int, int, str]]:
    toks = [(m.start(), m.end(), m.group().lower()) for m in _TOKEN_RE.finditer(text)]
    # Tokens inside an email are the email's; they behave like the placeholder they will become.
    masked = [(e.start, e.end, "[email]") for e in emails]
    if "." in text or "$" in text:
        # An amount breaks any digit run it touches.
        masked.extend((a, b, "$") for a, b in (m.span() for m in _MONEY_RE.finditer(text)))
    return _mask(toks, masked) if masked else toks


def _mask(toks: list[tuple[int, int, str]], ranges: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Tokens starting inside one of ``ranges`` get the range's tag instead of their word."""
    ranges = sorted(ranges)
    out = []
    r = 0
    for s, e, w in toks:
        while r < len(ranges) and ranges[r][1] <= s:
            r += 1
        if r < len(ranges) and ranges[r][0] <= s:
            w = ranges[r][2]
        out.append((s, e, w))
    return out


def find_pii(text: str) -> list[PiiSpan]:
    """Non-overlapping PII spans in ``text``, sorted by start."""
    if not text or not isinstance(text, str):
        return []
    emails = _resolve(_email_spans(text)) if _EMAIL_GATE_RE.search(text) else []
    candidates = list(emails)
    if _DIGITISH_RE.search(text):
        toks = _tokens(text, emails)
        if _MATCHER_GATE_RE.search(text):
            phones = _matcher_spans(text, toks, emails)
            if phones:
                # Matched numbers leave the digit-run analysis, exactly as their placeholder will on a second
                # pass: "415-555-0132 4111111111111111" is a phone and then a card, not one 26-digit run.
                candidates.extend(phones)
                toks = _mask(toks, [(p.start, p.end, "[phone]") for p in phones])
        candidates.extend(_number_spans(text, toks))
    if not candidates:
        return []
    return _resolve(candidates)


def _resolve(candidates: list[PiiSpan]) -> list[PiiSpan]:
    # Same-kind detections of one thing (the written and the spoken email pattern) are merged first so
    # their union is masked.
    merged: list[PiiSpan] = []
    for span in sorted(candidates, key=lambda s: (s.kind, s.start)):
        if merged and merged[-1].kind == span.kind and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = PiiSpan(span.kind, last.start, max(last.end, span.end))
        else:
            merged.append(span)
    merged.sort(key=lambda s: (_PRIORITY[s.kind], s.start - s.end))
    starts: list[int] = []  # kept spans, sorted and disjoint
    kept: list[PiiSpan] = []
    for span in merged:
        k = bisect_right(starts, span.start)
        if (k and kept[k - 1].end > span.start) or (k < len(kept) and kept[k].start < span.end):
            continue
        starts.insert(k, span.start)
        kept.insert(k, span)
    return kept


def redact_text(text: str | None) -> str | None:
    """``text`` with every PII span replaced by its placeholder; None and "" pass through."""
    if not text or not isinstance(text, str):
        return text
    # PhoneNumberMatcher is a black box whose matches can depend on the digits next to them, so a
    # redaction can uncover a number the first pass did not see. Passing again until nothing is found
    # makes the result idempotent; it costs a second scan only for text that had PII.
    for _ in range(_MAX_PASSES):
        spans = find_pii(text)
        if not spans:
            break
        text = _apply(text, spans)
    return text


_MAX_PASSES = 4


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
    (
        "card",
        re.compile(
            r"(?:^|_)(?:cc|cc_?num(?:ber)?|(?:credit|debit)_?card(?:_?num(?:ber)?)?|card_?(?:num(?:ber)?|no)"
            r"|card|pan)$"
        ),
    ),
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
    """A redacted copy of JSON-like ``value`` (dict/list/tuple/str/int/float/bool/None); keys are kept.

    Strings go through ``redact_text``. A non-empty string or int under a sensitive key becomes that
    key's placeholder. Other ints become "[CARD]" when they are 13-19 digits, Luhn-valid and start like
    a card (2-6), and "[PHONE]" when they are a 10-digit NANP number (area code and exchange not
    starting with 0/1), optionally after a leading 1: epoch seconds and milliseconds start with 1 and
    so stay numbers. Ints under counter/id/clock keys ("order_id", "ts", "at_ms", "amount") are kept.
    Bools, floats and None are returned as they are.
    """
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
        return redact_text(text)
    # The key is the number's only context in structured data ({"order_id": "5821344219"}); it is put in
    # front as a label and the spans are shifted back.
    lead = " ".join(key_words) + ": "
    for _ in range(_MAX_PASSES):
        spans = [
            PiiSpan(s.kind, max(0, s.start - len(lead)), s.end - len(lead))
            for s in find_pii(lead + text)
            if s.end > len(lead)
        ]
        if not spans:
            break
        text = _apply(text, spans)
    return text


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
