"""Settings for the test suite: production settings with a throwaway key and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Two suites on one PostgreSQL (say a developer's run beside CI's) each need their own test
# database: TEST_DATABASE_NAME names it (Django's default is test_<name>).
if os.environ.get("TEST_DATABASE_NAME"):
    _default = DATABASES["default"]  # noqa: F405
    _default["TEST"] = {**_default.get("TEST", {}), "NAME": os.environ["TEST_DATABASE_NAME"]}

# Recordings go to a throwaway folder, and background jobs run in-process once their transaction
# commits (tests run the on-commit callbacks with django_capture_on_commit_callbacks).
import tempfile  # noqa: E402

RECORDINGS_ROOT = tempfile.mkdtemp(prefix="test-recordings-")
STORAGES["recordings"] = {  # noqa: F405
    "BACKEND": "sessions_app.audio.storage.PrivateFileSystemStorage",
    "OPTIONS": {"location": RECORDINGS_ROOT},
}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}

# The LLM judge's tests run their endpoint on localhost.
LLM_JUDGE_ALLOW_PRIVATE_URLS = True
