"""Settings, driven by the environment with safe development defaults.

DATABASE_URL   unset -> SQLite file in the project; postgres://... -> PostgreSQL.
SECRET_KEY     required unless DEBUG is on (production refuses to start without one).
DEBUG          "1"/"true" for development; off by default.
ALLOWED_HOSTS  comma-separated; defaults to localhost when DEBUG is on.
ENCRYPTION_KEYS comma-separated Fernet keys for secrets at rest (first encrypts); see
               sessions_app/encryption.py. Unset: derived from SECRET_KEY (check --deploy warns).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

# Secrets the app must read back (tenants' Twilio auth tokens) are encrypted with these.
ENCRYPTION_KEYS = env_list("ENCRYPTION_KEYS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "sessions_app",
    "qa_app",
]

MIDDLEWARE = [
    "config.edge.EdgeMiddleware",
    "config.routers.ReplicaPinningMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the locked-out page
]

ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "qa_app.context_processors.invitations",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a seed or import writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL"):
    # psycopg's connection pool, per process: reuse connections without PgBouncer.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", 2),
        "max_size": env_int("DATABASE_POOL_MAX", 10),
        "timeout": 10,
    }

# An optional read replica; see config/routers.py for which reads stay on the primary.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# PostgreSQL's JIT compiles any query the planner costs above jit_above_cost, which a page's child
# query (`session_id = ANY(<500 ids>)`, estimated at ten times its rows) reaches: 7 ms of
# compiling for a 9 ms query. Every query here is short or index-driven, so JIT is off unless
# DATABASE_JIT says otherwise.
#
# random_page_cost: PostgreSQL's default (4) prices a random page read as on a spinning disk, so
# joining a few thousand rows to sessions by primary key looked dearer than reading every session
# of the tenant. On SSDs, or with the data in memory, 1.1 is the usual setting; with it the QA
# dashboard joins its failures by key (all time at 100,000 sessions: 367 -> 280 ms). Set
# DATABASE_RANDOM_PAGE_COST to change it, or to "" to keep the server's.
#
# config.postgresql is Django's PostgreSQL backend with a health check that asks the operating
# system whether the server closed the connection before it spends a round trip on SELECT 1.
RANDOM_PAGE_COST = os.environ.get("DATABASE_RANDOM_PAGE_COST", "1.1")
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _database["ENGINE"] = "config.postgresql"
        _options = _database.setdefault("OPTIONS", {})
        _settings = [] if env_bool("DATABASE_JIT") else ["-c jit=off"]
        if RANDOM_PAGE_COST:
            _settings.append(f"-c random_page_cost={float(RANDOM_PAGE_COST)}")
        _options["options"] = " ".join([_options.get("options", ""), *_settings]).strip()
DATABASE_ROUTERS = ["config.routers.PrimaryReplicaRouter"]
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 5)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: a locked-out username or address stops here
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Tenant roles are object permissions; guardian's anonymous user is not used.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# Sign-in lockout (django-axes): LOGIN_FAILURE_LIMIT wrong passwords for one username, or from one
# client address (config.clientip, so proxies count as TRUSTED_PROXY_COUNT says), lock that
# username or address for LOGIN_LOCKOUT_MINUTES. Unlock: the admin's "Access attempts", or
# `manage.py axes_reset_username NAME` / `axes_reset_ip ADDRESS`. A success resets the count.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "config.clientip.client_ip_address"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password"]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/review/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Call recordings (sessions_app/recordings): never served from a public URL, only through the app.
# Local files under RECORDINGS_ROOT by default; RECORDINGS_STORAGE=s3 keeps them in any
# S3-compatible bucket through django-storages (AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL, ...).
RECORDINGS_ROOT = Path(os.environ.get("RECORDINGS_ROOT", BASE_DIR / "var" / "recordings"))
_RECORDINGS_STORAGE = (
    {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("AWS_STORAGE_BUCKET_NAME", "recordings"),
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "location": os.environ.get("RECORDINGS_S3_PREFIX", "recordings"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": True,
        },
    }
    if os.environ.get("RECORDINGS_STORAGE") == "s3"
    else {
        "BACKEND": "sessions_app.audio.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": RECORDINGS_ROOT},
    }
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "recordings": _RECORDINGS_STORAGE,
    "staticfiles": {
        "BACKEND": os.environ.get(
            "STATICFILES_BACKEND",
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Request bodies: the API enforces its own limit with a 413 in the JSON envelope.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["sessions_app.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["sessions_app.api.permissions.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["sessions_app.api.renderers.OrjsonRenderer"],
    "DEFAULT_PARSER_CLASSES": ["sessions_app.api.parsers.LimitedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "sessions_app.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "UNAUTHENTICATED_TOKEN": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Voice Session Review API",
    "DESCRIPTION": (
        "Persisted voice-agent sessions: transcripts, tool calls, model and voice context, "
        "escalations, summaries, tags and QA evaluations. Compatible with the StateSet Voice "
        "`GET /api/v1/voice-sessions` family."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sessions_app.api.schema.nonempty_query_parameters",
    ],
    "ENUM_NAME_OVERRIDES": {
        "SessionStatusEnum": "sessions_app.models.SessionStatus",
        "QaStateEnum": "sessions_app.models.QaState",
        "VerdictEnum": "qa_app.models.Verdict",
    },
}

# Session lists count exactly up to this many rows; beyond it PostgreSQL's estimate is used.
API_EXACT_COUNT_THRESHOLD = env_int("API_EXACT_COUNT_THRESHOLD", 1_000)

# Twilio webhooks: the public base URL Twilio calls (signatures cover the full URL), and a
# per-tenant limit of callbacks per minute.
TWILIO_WEBHOOK_BASE_URL = os.environ.get("TWILIO_WEBHOOK_BASE_URL", "")
TWILIO_WEBHOOK_RATE_LIMIT_PER_MINUTE = env_int("TWILIO_WEBHOOK_RATE_LIMIT_PER_MINUTE", 1200)
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST")

# How many reverse proxies in front of the app append to X-Forwarded-For (config/clientip.py):
# rate limits and login lockouts count the client address they report. 0 trusts only the socket.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# API rate limits per minute (config/ratelimit.py): each tenant or admin key, and requests without a
# valid key per client address (counted before their 401). 0 switches a limit off.
API_RATE_LIMIT_PER_KEY = env_int("API_RATE_LIMIT_PER_KEY", 1000)
API_RATE_LIMIT_ANONYMOUS_PER_IP = env_int("API_RATE_LIMIT_ANONYMOUS_PER_IP", 60)

# A shared cache (rate limits) in production: REDIS_URL, so every worker counts against one limit;
# per-process memory otherwise, where each worker counts alone.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}
        if os.environ.get("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Recordings: the largest accepted upload, and how far the measured response latency of an agent
# turn may differ from the pipeline's reported one before the turn is flagged.
RECORDING_MAX_BYTES = env_int("RECORDING_MAX_BYTES", 512 * 1024 * 1024)
RECORDING_LATENCY_FLAG_MS = env_int("RECORDING_LATENCY_FLAG_MS", 500)
RECORDING_LONG_SILENCE_MS = env_int("RECORDING_LONG_SILENCE_MS", 3000)
RECORDING_FETCH_TIMEOUT_SECONDS = env_int("RECORDING_FETCH_TIMEOUT_SECONDS", 30)
# Twilio's media host; a test points it at a local server.
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "https://api.twilio.com")

# The LLM judge: how many calls ask the tenant's endpoint at once, and whether that endpoint may be
# plain http or on a private network (development and tests run one on localhost).
LLM_JUDGE_CONCURRENCY = env_int("LLM_JUDGE_CONCURRENCY", 4)
LLM_JUDGE_ALLOW_PRIVATE_URLS = env_bool("LLM_JUDGE_ALLOW_PRIVATE_URLS", DEBUG)

# Background work (recording processing, media fetches) runs on Celery after the request returns.
# Production: CELERY_BROKER_URL=redis://... with `celery -A config worker`. Unset, the broker is a
# folder on disk (kombu's filesystem transport), which `make run` starts a worker for: nothing else
# to install. CELERY_TASK_ALWAYS_EAGER=1 runs jobs in-process (after the transaction commits).
_CELERY_QUEUE_DIR = Path(os.environ.get("CELERY_QUEUE_DIR", BASE_DIR / "var" / "celery"))
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_CELERY_QUEUE_DIR / "out"),
        "data_folder_out": str(_CELERY_QUEUE_DIR / "out"),
        "processed_folder": str(_CELERY_QUEUE_DIR / "processed"),
        "control_folder": str(_CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# API keys: last_used_at is written at most this often, so reads stay read-only.
API_KEY_LAST_USED_RESOLUTION_SECONDS = 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Browser features no page here uses (recordings play through <audio>, which needs none).
PERMISSIONS_POLICY = os.environ.get(
    "PERMISSIONS_POLICY",
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "display-capture=(), interest-cohort=()",
)

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# HTTPS behind a TLS-terminating proxy (SECURE_PROXY_SSL=1): the proxy's X-Forwarded-Proto is
# trusted, plain-HTTP requests are redirected (health probes excepted: load balancers probe over
# HTTP) and browsers are told to use HTTPS only (HSTS, a year by default). Each can be overridden.
SECURE_PROXY_SSL = env_bool("SECURE_PROXY_SSL", False)
if SECURE_PROXY_SSL:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE_PROXY_SSL)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if SECURE_PROXY_SSL else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_PROXY_SSL)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_PROXY_SSL)
