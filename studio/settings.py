"""Classifier Studio settings: one file, every deployment-specific value from the environment.

The embedded default (no env at all) is a working single-machine studio: SQLite in ./var,
the django-q2 ORM broker, media in ./var/media. Production sets the env vars listed in the
README (SECRET_KEY, DATABASE_URL, ALLOWED_HOSTS, STUDIO_HTTPS, ...). A bad value stops
start-up with ImproperlyConfigured naming the variable.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use true/false, yes/no, on/off or 1/0.")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_float(name: str, default: float, minimum: float = 0.0, maximum: float = 1.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={value} must lie between {minimum} and {maximum}.")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Where the embedded default keeps its state (SQLite file, media, generated secret key).
DATA_DIR = Path(env_str("STUDIO_DATA_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# Under pytest: sync django-q2, plain static storage. Read before django_q is imported.
TESTING = env_bool("STUDIO_TESTING", "pytest" in sys.modules)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        if len(key) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long.")
        return key
    # Single-machine default: a random key kept in the data folder, so sessions survive a
    # restart. Every host of a scale-out deployment must share one SECRET_KEY (django-q2
    # signs task payloads with it), so production sets it in the environment.
    path = DATA_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(64)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
for _origin in CSRF_TRUSTED_ORIGINS:
    if "://" not in _origin:
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS entry {_origin!r} needs a scheme, e.g. https://studio.example.com"
        )
SITE_NAME = env_str("STUDIO_SITE_NAME", "Classifier Studio")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "django_q",
    "studio",
    "classifiers",
]

MIDDLEWARE = [
    # Only a process_exception hook: a database that is away answers 503, not 500.
    "studio.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "studio.middleware.HtmxLoginRedirectMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"

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
                "csp.context_processors.nonce",
                "studio.context_processors.site",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------
_default_db_url = f"sqlite:///{DATA_DIR / 'studio.sqlite3'}"
try:
    _db = dj_database_url.parse(env_str("DATABASE_URL", _default_db_url), conn_max_age=60)
except (ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE transactions: the web process and the worker write without
    # "database is locked" (checked on this stack, see FIELD-NOTES).
    # Persistent connections: opening SQLite per request cost 10-20 ms on the API's hot path.
    _db["CONN_MAX_AGE"] = 60
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True) if _db["NAME"] != ":memory:" else None
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_HEALTH_CHECKS"] = True
else:
    raise ImproperlyConfigured(
        f"DATABASE_URL engine {_db['ENGINE']} is not supported: use sqlite or postgres."
    )
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Tests make many users; the real hashers are deliberately slow.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project_list"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("STUDIO_SESSION_SECONDS", 8 * 3600, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Failed sign-ins, counted in the default cache (a DatabaseCache: shared by every process)
# over a sliding window: past the limit per username or per client address, the login form
# answers 429 without checking the password. 0 turns that limit off.
STUDIO_LOGIN_MAX_FAILURES = env_int("STUDIO_LOGIN_MAX_FAILURES", 5, minimum=0)
STUDIO_LOGIN_MAX_FAILURES_PER_IP = env_int("STUDIO_LOGIN_MAX_FAILURES_PER_IP", 20, minimum=0)
STUDIO_LOGIN_WINDOW_SECONDS = env_int("STUDIO_LOGIN_WINDOW_SECONDS", 15 * 60, minimum=1)
# Reverse proxies in front of Django that append to X-Forwarded-For (0: use REMOTE_ADDR).
# Behind a proxy, set it, or every client shares the proxy's address for the per-IP limit.
STUDIO_TRUSTED_PROXIES = env_int("STUDIO_TRUSTED_PROXIES", 0, minimum=0)

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "media/"  # never served directly: files go out through views with access checks
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # The manifest needs collectstatic (the run command does it); tests and DEBUG use
        # plain storage, or every {% static %} fails with "Missing staticfiles manifest entry".
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if (DEBUG or TESTING)
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- Upload and text limits -----------------------------------------------------------
STUDIO_MAX_FILE_BYTES = env_int("STUDIO_MAX_FILE_BYTES", 50 * 1024 * 1024, minimum=1024)
STUDIO_MAX_FILES_PER_BATCH = env_int("STUDIO_MAX_FILES_PER_BATCH", 10_000, minimum=1)
STUDIO_MAX_ZIP_BYTES = env_int("STUDIO_MAX_ZIP_BYTES", 2 * 1024**3, minimum=1024)
STUDIO_MAX_ZIP_RATIO = env_int("STUDIO_MAX_ZIP_RATIO", 100, minimum=2)
STUDIO_MAX_ZIP_DEPTH = env_int("STUDIO_MAX_ZIP_DEPTH", 2, minimum=0)
STUDIO_MAX_TEXT_CHARS = env_int("STUDIO_MAX_TEXT_CHARS", 5_000_000, minimum=1000)
STUDIO_MODEL_PREFIX_CHARS = env_int("STUDIO_MODEL_PREFIX_CHARS", 20_000, minimum=100)
# Django holds a request body in memory up to this size; the upload view streams larger
# files to disk. Not a limit on its own: the limits above are enforced per file.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("STUDIO_MAX_REQUEST_BYTES", 10 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FILES = STUDIO_MAX_FILES_PER_BATCH
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("STUDIO_MAX_FORM_FIELDS", 10_000, minimum=100)
# Trainable classifiers (Purview's flow).
STUDIO_SEED_MIN = env_int("STUDIO_SEED_MIN", 50, minimum=5)
STUDIO_SEED_MAX = env_int("STUDIO_SEED_MAX", 500, minimum=STUDIO_SEED_MIN)
STUDIO_PUBLISH_MIN_REVIEWS = env_int("STUDIO_PUBLISH_MIN_REVIEWS", 200, minimum=1)
STUDIO_PUBLISH_STABILITY_MARGIN = env_float("STUDIO_PUBLISH_STABILITY_MARGIN", 0.02)
STUDIO_DATASETS_DIR = Path(env_str("STUDIO_DATASETS_DIR", str(BASE_DIR.parent / "shared" / "datasets")))

# --- Background jobs (django-q2) ------------------------------------------------------
# ORM broker: queued work lives in the database and survives a crash (at-least-once; our
# tasks are idempotent). `retry` must exceed `timeout`, or one task runs twice at once.
# Long training jobs have their own queue ("training") so they never starve short jobs;
# start it with `Q_CLUSTER_NAME=training manage.py qcluster`.
Q_TIMEOUT = env_int("Q_TIMEOUT", 900, minimum=10)
Q_TRAINING_TIMEOUT = env_int("Q_TRAINING_TIMEOUT", 3600, minimum=10)
# How long a delivered task stays locked before the broker hands it out again (the
# redelivery delay after a worker died). Lowered only by the fault tests, to stay quick.
Q_RETRY = env_int("Q_RETRY", Q_TIMEOUT + 300, minimum=2)
Q_TRAINING_RETRY = env_int("Q_TRAINING_RETRY", Q_TRAINING_TIMEOUT + 600, minimum=2)
for _name, _retry, _timeout in (
    ("Q_RETRY", Q_RETRY, Q_TIMEOUT),
    ("Q_TRAINING_RETRY", Q_TRAINING_RETRY, Q_TRAINING_TIMEOUT),
):
    if _retry <= _timeout:
        raise ImproperlyConfigured(
            f"{_name}={_retry} must exceed the timeout ({_timeout} s), or one task runs twice at once."
        )
Q_CLUSTER = {
    "name": "studio",
    "orm": "default",
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": Q_TIMEOUT,
    "retry": Q_RETRY,
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 3, minimum=1),
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 500,
    "poll": 1,
    "label": "Background jobs",
    "sync": TESTING,
    "ALT_CLUSTERS": {
        "training": {
            "workers": env_int("Q_TRAINING_WORKERS", 1, minimum=1),
            "timeout": Q_TRAINING_TIMEOUT,
            "retry": Q_TRAINING_RETRY,
            "max_attempts": 2,
        },
    },
}
STUDIO_TRAINING_QUEUE = "training"

# qinfo/qmonitor read cluster stats from the cache: a database cache lets the web process
# see the workers' stats (a LocMemCache would not).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "studio_cache",
    }
}

# --- Security -------------------------------------------------------------------------
HTTPS = env_bool("STUDIO_HTTPS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("STUDIO_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("STUDIO_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("STUDIO_HSTS_PRELOAD", False)
else:
    SECURE_HSTS_PRELOAD = False
# Without STUDIO_HTTPS (a local studio on http://127.0.0.1) the HTTPS-only checks do not
# apply. HSTS preload is an irreversible commitment an operator opts into explicitly.
SILENCED_SYSTEM_CHECKS = [] if HTTPS else ["security.W004", "security.W008", "security.W012", "security.W016"]
if not (HTTPS and SECURE_HSTS_PRELOAD):
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# Strict CSP: no inline scripts or styles, no eval; htmx is configured for it in base.html.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- Misc -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- API (deployments, tokens, synchronous and asynchronous classify) -------------------
# Limits of one synchronous classify call (Azure's are 25 documents / 125,000 characters;
# ours are higher because one call of 100 one-KB documents takes about 20 ms here).
STUDIO_API_MAX_DOCUMENTS = env_int("STUDIO_API_MAX_DOCUMENTS", 100, minimum=1)
STUDIO_API_MAX_CHARS = env_int("STUDIO_API_MAX_CHARS", 500_000, minimum=1000)
# Limits of one asynchronous job, and of any API request body (checked before reading it).
STUDIO_API_JOB_MAX_DOCUMENTS = env_int("STUDIO_API_JOB_MAX_DOCUMENTS", 10_000, minimum=1)
STUDIO_API_JOB_MAX_CHARS = env_int("STUDIO_API_JOB_MAX_CHARS", 10_000_000, minimum=1000)
STUDIO_API_MAX_BODY_BYTES = env_int("STUDIO_API_MAX_BODY_BYTES", 32 * 1024 * 1024, minimum=1024)
# A job's results are kept this long after submission (Azure: 24 hours), then deleted by
# classifiers.api.jobs.delete_expired_jobs; the worker classifies and stores this many
# documents at a time (a re-delivered job continues after the last stored chunk).
STUDIO_API_JOB_TTL_SECONDS = env_int("STUDIO_API_JOB_TTL_SECONDS", 24 * 3600, minimum=60)
STUDIO_API_JOB_CHUNK = env_int("STUDIO_API_JOB_CHUNK", 500, minimum=1)
STUDIO_API_PAGE_SIZE = env_int("STUDIO_API_PAGE_SIZE", 100, minimum=1)  # job results per page by default
# Requests per token per minute (fixed window, counted in the cache named below); 0 = off.
STUDIO_API_RATE_LIMIT = env_int("STUDIO_API_RATE_LIMIT", 1000, minimum=0)
STUDIO_API_RATE_CACHE = env_str("STUDIO_API_RATE_CACHE", "default")
if STUDIO_API_RATE_CACHE not in CACHES:
    raise ImproperlyConfigured(f"STUDIO_API_RATE_CACHE={STUDIO_API_RATE_CACHE!r} is not a cache in CACHES.")
# Model versions kept loaded per process (each is its weights: a few MB to a few hundred MB).
STUDIO_API_MODEL_CACHE_SIZE = env_int("STUDIO_API_MODEL_CACHE_SIZE", 8, minimum=1)
# The classification log (one row per API call) keeps this many days.
STUDIO_API_LOG_DAYS = env_int("STUDIO_API_LOG_DAYS", 90, minimum=1)
STUDIO_MAX_DEPLOYMENTS = env_int("STUDIO_MAX_DEPLOYMENTS", 20, minimum=1)  # slots per project
# Outermost: every error under /api/ and /language/ (Azure's paths) answers JSON, even
# Django's own 404 and 500 and other middleware's refusals.
MIDDLEWARE = ["classifiers.api.middleware.ApiErrorMiddleware", *MIDDLEWARE]
