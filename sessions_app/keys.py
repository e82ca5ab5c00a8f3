"""The API key format: ``vsk_<prefix>_<secret>``.

The prefix (12 base62 characters) is public and indexed; it identifies the key in lists and
audit trails. The secret is 43 random base62 characters (256 bits) followed by a 6-character
base62 CRC32 of those characters, as GitHub does for its tokens, so a leaked key can be
recognised offline and typos are rejected without a database lookup. Only the SHA-256 digest of
the whole key is stored.
"""

import hashlib
import hmac
import re
import secrets
import string
import zlib
from dataclasses import dataclass

KEY_TYPE = "vsk"
BASE62 = string.digits + string.ascii_letters
PREFIX_LENGTH = 12
ENTROPY_LENGTH = 43
CHECKSUM_LENGTH = 6

KEY_PATTERN = re.compile(
    rf"^{KEY_TYPE}_(?P<prefix>[0-9A-Za-z]{{{PREFIX_LENGTH}}})_"
    rf"(?P<entropy>[0-9A-Za-z]{{{ENTROPY_LENGTH}}})(?P<checksum>[0-9A-Za-z]{{{CHECKSUM_LENGTH}}})$"
)


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    raw: str


def _random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def _base62(number: int, width: int) -> str:
    chars = []
    while number:
        number, remainder = divmod(number, 62)
        chars.append(BASE62[remainder])
    return "".join(reversed(chars)).rjust(width, "0")


def checksum(entropy: str) -> str:
    return _base62(zlib.crc32(entropy.encode("ascii")), CHECKSUM_LENGTH)


def generate_key() -> ParsedKey:
    prefix = _random_base62(PREFIX_LENGTH)
    entropy = _random_base62(ENTROPY_LENGTH)
    return ParsedKey(prefix=prefix, raw=f"{KEY_TYPE}_{prefix}_{entropy}{checksum(entropy)}")


def parse_key(raw: str) -> ParsedKey | None:
    """Return the key's parts if it is well formed and its checksum holds, else None."""
    match = KEY_PATTERN.match(raw)
    if match is None:
        return None
    if not hmac.compare_digest(checksum(match["entropy"]), match["checksum"]):
        return None
    return ParsedKey(prefix=match["prefix"], raw=raw)


def digest_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def digests_match(raw: str, digest: str) -> bool:
    return hmac.compare_digest(digest_key(raw), digest)
