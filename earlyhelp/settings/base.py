"""Settings shared by every environment, read from the environment (12-factor).

With nothing set the app runs on the embedded default: a SQLite file and Celery tasks
executed in-process. Set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis) for the
production topology.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-development-key-only-for-local-use")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_forms_gds",
    "django_htmx",
    "earlyhelp",
    "cases",
    "assessments",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]
# Only benchmarks turn this on (make bench-pages): a Server-Timing header on every response with
# the time Django spent and its SQL, so a load generator can read server time per page.
SERVER_TIMING = env_bool("DJANGO_SERVER_TIMING", default=False)
if SERVER_TIMING:
    MIDDLEWARE.insert(0, "earlyhelp.timing.ServerTimingMiddleware")

ROOT_URLCONF = "earlyhelp.urls"
WSGI_APPLICATION = "earlyhelp.wsgi.application"

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
                "earlyhelp.navigation.navigation",
            ],
        },
    },
]

# DATABASE_URL selects the production topology; without it, a SQLite file under var/.
if not os.environ.get("DATABASE_URL"):
    (BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'earlyhelp.sqlite3'}",
        # Seconds a web process keeps its connection between requests (0: a new connection,
        # so a new PostgreSQL backend, for every request).
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        # A kept connection is checked (one round trip) before a request first uses it, so a
        # database restart costs no failed requests. Off saves that round trip per request:
        # measured, a SELECT 1 costs PostgreSQL about 40 µs and the web process about 35 µs,
        # some 1.5% of a partner submission's CPU, too little to give up the check for.
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", default=True),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "earlyhelp.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions end after SESSION_COOKIE_AGE seconds without activity (default 30 minutes), and
# when the browser closes: these pages show children's records on shared office machines.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Celery: with no broker configured, tasks run in-process (the embedded default).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every API error is an RFC 9457 problem document (cases/api/problems.py).
    "EXCEPTION_HANDLER": "cases.api.problems.problem_exception_handler",
}

# --- Partner API (/api/v1/) -----------------------------------------------------------------
# Requests per partner key (DRF rate syntax: "120/min", "5000/hour"); 429 + Retry-After beyond.
API_PARTNER_RATE = os.environ.get("API_PARTNER_RATE", "120/min")
# Largest request body the API reads; larger bodies get 413 before any parsing.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(64 * 1024)))
# How long a web process may keep using a key it has read; a key revoked in another process
# keeps working here for at most this long (0: read the key on every request).
API_KEY_CACHE_SECONDS = float(os.environ.get("API_KEY_CACHE_SECONDS", "2"))
# How long a web process may keep using its copy of the active reference codes.
API_REFERENCE_CACHE_SECONDS = int(os.environ.get("API_REFERENCE_CACHE_SECONDS", "60"))
# How long an Idempotency-Key is remembered; a retry after that creates a new referral.
API_IDEMPOTENCY_DAYS = int(os.environ.get("API_IDEMPOTENCY_DAYS", "30"))
# How often beat's relay hands partner submissions' follow-ups (matching, the email to triage)
# to the broker: at most this long after the request, a follow-up starts.
PARTNER_FOLLOW_UP_RELAY_SECONDS = float(os.environ.get("PARTNER_FOLLOW_UP_RELAY_SECONDS", "2"))
# A follow-up handed to the broker but not done after this long is handed over again.
PARTNER_FOLLOW_UP_RETRY_SECONDS = int(os.environ.get("PARTNER_FOLLOW_UP_RETRY_SECONDS", "300"))
# Who is told (by email, reference only) that a partner request is waiting for triage.
TRIAGE_NOTIFICATION_EMAILS = env_list("TRIAGE_NOTIFICATION_EMAILS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "early-help@localhost")
# Only `make bench-api` sets this: it adds the bare one-insert view used as the speed floor.
API_BENCH_FLOOR = env_bool("API_BENCH_FLOOR", default=False)

# Throttle counters must be shared by every web process, so they live in Redis when there is
# one (CACHE_URL, else the Redis broker); the embedded default keeps them in process memory.
CACHE_URL = os.environ.get(
    "CACHE_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
)
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Early help partner API",
    "DESCRIPTION": (
        "Partner organisations (schools, health, police, voluntary sector) send requests for "
        "support and follow what happened to them. Authenticate with the organisation's key: "
        "`Authorization: Api-Key <key>`. Send an `Idempotency-Key` header with every POST so "
        "a retry can never create a duplicate. Errors are RFC 9457 problem documents "
        "(`application/problem+json`) listing each field path and reason."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # The docs page is served from the installed package's files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

CELERY_BEAT_SCHEDULE["partner-follow-up-relay"] = {
    "task": "cases.partner_follow_up_relay",
    "schedule": PARTNER_FOLLOW_UP_RELAY_SECONDS,
    # A tick no worker took in time is dropped, not piled up: the next one does its work.
    "options": {"expires": PARTNER_FOLLOW_UP_RELAY_SECONDS * 5},
}
# Reporting: the nightly full recompute (after midnight, when the day's records are in), and a
# sweep that fails runs whose worker died so they can be rerun.
REPORT_NIGHTLY_HOUR = int(os.environ.get("REPORT_NIGHTLY_HOUR", "2"))
REPORT_RUN_STALE_SECONDS = int(os.environ.get("REPORT_RUN_STALE_SECONDS", "3600"))
# A run computed in one place (no broker: the embedded default) loads the data once, then shares
# its partitions among this many forked processes (PostgreSQL only; 1 computes them in turn).
REPORT_RUN_PROCESSES = int(os.environ.get("REPORT_RUN_PROCESSES", str(os.cpu_count() or 1)))
# A run is split into tasks by group of measures and by span of this many reporting years (the
# nightly 24 months fall in at most three): fewer years, more and smaller tasks for more workers.
REPORT_RUN_YEARS_PER_TASK = int(os.environ.get("REPORT_RUN_YEARS_PER_TASK", "3"))
CELERY_BEAT_SCHEDULE["reporting-nightly-recompute"] = {
    "task": "reporting.nightly_recompute",
    "schedule": crontab(hour=REPORT_NIGHTLY_HOUR, minute=0),
}
CELERY_BEAT_SCHEDULE["reporting-abandon-stale-runs"] = {
    "task": "reporting.report_runs_abandon_stale",
    "schedule": 10 * 60.0,
}
CELERY_BEAT_SCHEDULE["idempotency-keys-purge"] = {
    "task": "cases.idempotency_keys_purge",
    "schedule": 24 * 60 * 60.0,
}

# Personal data is never logged: loggers name records by UUID or reference only.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
