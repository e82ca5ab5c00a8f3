"""The key formats: ``vsk_<prefix>_<secret>`` (tenant API keys) and ``vsa_<prefix>_<secret>``
(platform admin keys). The type prefix makes the two impossible to confuse, in logs or in use.

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
ADMIN_KEY_TYPE = "vsa"
BASE62 = string.digits + string.ascii_letters
PREFIX_LENGTH = 12
ENTROPY_LENGTH = 43
CHECKSUM_LENGTH = 6

KEY_PATTERN = re.compile(
    rf"^(?P<type>{KEY_TYPE}|{ADMIN_KEY_TYPE})_(?P<prefix>[0-9A-Za-z]{{{PREFIX_LENGTH}}})_"
    rf"(?P<entropy>[0-9A-Za-z]{{{ENTROPY_LENGTH}}})(?P<checksum>[0-9A-Za-z]{{{CHECKSUM_LENGTH}}})$"
)


@dataclass(frozen=True)
class ParsedKey:
    prefix: str
    raw: str
    key_type: str = KEY_TYPE


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


def generate_key(key_type: str = KEY_TYPE) -> ParsedKey:
    prefix = _random_base62(PREFIX_LENGTH)
    entropy = _random_base62(ENTROPY_LENGTH)
    return ParsedKey(
        prefix=prefix, raw=f"{key_type}_{prefix}_{entropy}{checksum(entropy)}", key_type=key_type
    )


def parse_key(raw: str, key_type: str = KEY_TYPE) -> ParsedKey | None:
    """Return the key's parts if it is a well-formed key of ``key_type`` whose checksum holds."""
    match = KEY_PATTERN.match(raw)
    if match is None or match["type"] != key_type:
        return None
    if not hmac.compare_digest(checksum(match["entropy"]), match["checksum"]):
        return None
    return ParsedKey(prefix=match["prefix"], raw=raw, key_type=key_type)


def digest_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def digests_match(raw: str, digest: str) -> bool:
    return hmac.compare_digest(digest_key(raw), digest)
