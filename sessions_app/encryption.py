"""Secrets the app must read back, encrypted at rest: ``EncryptedTextField``.

An API key can be stored as a digest because we only ever compare it. A tenant's Twilio auth
token can't: Twilio signs each webhook with it, so we need the token itself to check the
signature (and a provider API key has to be sent as is). Such values are stored as Fernet tokens
(AES-128-CBC + HMAC-SHA256), marked ``fernet:…`` in the column, and read back as plaintext.

Keys: ``ENCRYPTION_KEYS`` is a comma-separated list of Fernet keys (``Fernet.generate_key()``).
The first one encrypts; every one of them decrypts, so a key is rotated by putting a new one
first, running ``manage.py rotate_encryption_keys``, then removing the old one. When it is unset
(development, tests), one key is derived from ``SECRET_KEY`` with HKDF-SHA256, and
``check --deploy`` warns: changing SECRET_KEY would then make every stored secret unreadable.

A stored value that no configured key opens (a key removed too early, a row copied from another
deployment, a plaintext written around the ORM) never breaks the loading of its row: it is
decrypted when the attribute is read, and that read raises ``UndecryptableSecret``. Saving the
row writes the stored token back untouched, so putting the right key back restores it. The
column holds either ``""`` (no secret) or a Fernet token: a plaintext found there is treated as
undecryptable, never used, because anyone able to write the column could otherwise choose the
secret (say, a Twilio token to forge signatures with).

Each encryption is randomised, so the column can't be searched by value: only ``isnull`` and
``exact`` against ``""`` are allowed.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models
from django.db.models.lookups import Exact, IsNull
from django.db.models.query_utils import DeferredAttribute

PREFIX = "fernet:"
# Changing this would change the key derived from SECRET_KEY, and lose every secret stored with it.
HKDF_INFO = b"voice-session-review encrypted fields v1"


class UndecryptableSecret(Exception):
    """A stored secret that none of the configured keys decrypts."""

    def __init__(self, label: str):
        super().__init__(f"{label} can't be decrypted with the configured ENCRYPTION_KEYS.")
        self.label = label


# --- keys ----------------------------------------------------------------------------------------


def derived_key(secret_key: str) -> bytes:
    """The Fernet key used while ENCRYPTION_KEYS is unset: HKDF-SHA256 of SECRET_KEY."""
    material = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(material)


@functools.lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        return MultiFernet([Fernet(derived_key(secret_key))])
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except ValueError:
            # Never echo the key itself: this message may end up in a log.
            raise ImproperlyConfigured(
                f"ENCRYPTION_KEYS entry {position} is not a Fernet key (32 url-safe base64 bytes)."
            ) from None
    return MultiFernet(fernets)


def keyring(*, with_derived_key: bool = False) -> MultiFernet:
    """The configured keys, first one encrypting. ``with_derived_key`` adds the SECRET_KEY-derived
    key as a last, decrypt-only key, to move values written before ENCRYPTION_KEYS was set."""
    keys = tuple(settings.ENCRYPTION_KEYS)
    if with_derived_key and keys:
        keys = (*keys, derived_key(settings.SECRET_KEY).decode())
    return _multifernet(keys, settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    """The stored form of ``plaintext``: ``fernet:<token>``, encrypted with the first key."""
    return PREFIX + keyring().encrypt(plaintext.encode()).decode()


def decrypt(stored: str, *, label: str = "A stored secret") -> str:
    """The plaintext of a stored ``fernet:<token>``; UndecryptableSecret if no key opens it."""
    if not stored.startswith(PREFIX):
        raise UndecryptableSecret(label)
    try:
        return keyring().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise UndecryptableSecret(label) from None


def rotate(stored: str, *, with_derived_key: bool = False) -> str:
    """``stored`` re-encrypted with the first key (MultiFernet.rotate keeps its timestamp)."""
    if not stored.startswith(PREFIX):
        raise UndecryptableSecret("A stored secret")
    try:
        token = keyring(with_derived_key=with_derived_key).rotate(stored[len(PREFIX) :].encode())
    except InvalidToken:
        raise UndecryptableSecret("A stored secret") from None
    return PREFIX + token.decode()


# --- the field -----------------------------------------------------------------------------------


class Ciphertext:
    """A value as stored, loaded from the database and decrypted on first use.

    ``values()``/``values_list()`` on an encrypted column return these; model attributes return
    the plaintext.
    """

    __slots__ = ("_plaintext", "label", "stored")

    def __init__(self, stored: str, label: str = "A stored secret"):
        self.stored = stored
        self.label = label
        self._plaintext: str | None = None

    def reveal(self) -> str:
        if self._plaintext is None:
            self._plaintext = decrypt(self.stored, label=self.label)
        return self._plaintext

    def __bool__(self) -> bool:
        return bool(self.stored)

    def __repr__(self) -> str:
        return "<Ciphertext>"  # never the plaintext, even once revealed


class EncryptedAttribute(DeferredAttribute):
    """Decrypts on read, so a row whose secret can't be decrypted still loads and saves."""

    def __get__(self, instance, cls=None):
        value = super().__get__(instance, cls)
        return value.reveal() if isinstance(value, Ciphertext) else value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """Text encrypted at rest with the ENCRYPTION_KEYS (see the module docstring)."""

    description = "Text encrypted at rest (Fernet)"
    descriptor_class = EncryptedAttribute

    def _label(self) -> str:
        return f"{self.model._meta.object_name}.{self.name}" if hasattr(self, "model") else self.name

    def from_db_value(self, value, expression, connection):
        return Ciphertext(value, self._label()) if value else value

    def to_python(self, value):
        if isinstance(value, Ciphertext) or value is None:
            return value
        value = super().to_python(value)
        # A stored form coming back (loaddata of a dump): kept as is, never encrypted twice.
        return Ciphertext(value, self._label()) if value.startswith(PREFIX) else value

    def value_to_string(self, obj):
        """The stored form, so dumpdata never writes a secret out in plaintext."""
        value = obj.__dict__.get(self.attname, "")
        if isinstance(value, Ciphertext):
            return value.stored
        return encrypt(value) if value else ""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if isinstance(value, Ciphertext):
            return value.stored  # unchanged, readable or not
        if not value:
            return value
        return encrypt(value)

    def pre_save(self, model_instance, add):
        # What is in the instance, without decrypting: an undecryptable value is written back as is.
        return model_instance.__dict__.get(self.attname, "")

    def value_from_object(self, obj):
        """The plaintext, or "" when it can't be decrypted (form initial data never raises)."""
        try:
            return getattr(obj, self.attname)
        except UndecryptableSecret:
            return ""

    def get_lookup(self, lookup_name):
        lookup = {"exact": EmptyOnlyExact, "isnull": IsNull}.get(lookup_name)
        if lookup is None:
            raise FieldError(f"An encrypted field can't be filtered with {lookup_name!r}.")
        return lookup


class EmptyOnlyExact(Exact):
    """``field=""`` works (empty is stored as empty); any other value would never match."""

    def get_prep_lookup(self):
        if not isinstance(self.rhs, str) or self.rhs:
            raise FieldError("An encrypted field can only be compared with '' (each encryption differs).")
        return super().get_prep_lookup()


def secret_is_set(instance: models.Model, field_name: str) -> bool:
    """Whether a secret is stored, without needing to decrypt it (an undecryptable one is set)."""
    if field_name in instance.__dict__:
        return bool(instance.__dict__[field_name])
    try:
        return bool(getattr(instance, field_name))
    except UndecryptableSecret:
        return True


def secret_is_readable(instance: models.Model, field_name: str) -> bool:
    """Whether the stored secret (if any) decrypts with the configured keys."""
    try:
        getattr(instance, field_name)
    except UndecryptableSecret:
        return False
    return True


def encrypted_fields() -> list[EncryptedTextField]:
    """Every encrypted column of every installed model."""
    from django.apps import apps

    return [
        field
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


# --- system checks -------------------------------------------------------------------------------


@checks.register(checks.Tags.security)
def check_encryption_keys(app_configs=None, **kwargs):
    """Malformed ENCRYPTION_KEYS are an error everywhere: every read and write would fail."""
    try:
        keyring()
    except ImproperlyConfigured as error:
        return [
            checks.Error(str(error), hint="Generate one with Fernet.generate_key().", id="sessions_app.E001")
        ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_encryption_keys_set(app_configs=None, **kwargs):
    """Production must not depend on SECRET_KEY for its secrets at rest."""
    if settings.ENCRYPTION_KEYS:
        return []
    return [
        checks.Warning(
            "ENCRYPTION_KEYS is not set: secrets at rest (tenants' Twilio auth tokens) are encrypted "
            "with a key derived from SECRET_KEY, so changing SECRET_KEY would make them unreadable.",
            hint=(
                "Set ENCRYPTION_KEYS to one or more comma-separated Fernet keys (the first encrypts), "
                "then run manage.py rotate_encryption_keys --from-secret-key."
            ),
            id="sessions_app.W001",
        )
    ]
