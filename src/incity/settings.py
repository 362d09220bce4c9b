"""incity settings, read from the environment through typed helpers.

Every variable is documented in docs/configuration.md. Outside demo mode incity
refuses to start without INCITY_SECRET_KEY.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
import xstatic.pkg.leaflet as _xstatic_leaflet

from incity.env import (
    ConfigError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_path,
    env_secret,
    env_str,
)

PACKAGE_DIR = Path(__file__).resolve().parent

DEMO_MODE = env_bool("INCITY_DEMO_MODE", False)
DEBUG = env_bool("INCITY_DEBUG", False)
DATA_DIR = env_path("INCITY_DATA_DIR", Path.cwd() / "var")


def _secret_key() -> str:
    key = env_secret("INCITY_SECRET_KEY")
    if key:
        if len(key) < 32 and not DEMO_MODE:
            raise ConfigError(
                "INCITY_SECRET_KEY is too short (fewer than 32 characters). Make one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
            )
        return key
    if not DEMO_MODE:
        raise ConfigError(
            "INCITY_SECRET_KEY is not set. Make one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))' "
            "and export it (or put it in a file named by INCITY_SECRET_KEY_FILE)."
        )
    # Demo mode only: a key generated once and kept beside the demo database.
    key_file = DATA_DIR / "demo-secret-key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key, encoding="utf-8")
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("INCITY_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("INCITY_CSRF_TRUSTED_ORIGINS", [])
HTTPS = env_bool("INCITY_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("INCITY_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("INCITY_HSTS_SECONDS", 0, minimum=0)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("INCITY_BEHIND_PROXY", False) else None
)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Before allauth, so incity's templates override allauth's layout.
    "incity.web",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "incity.accounts",
    "incity.places",
    "incity.frameworks",
    "incity.surveys",
    "incity.collect",
    "incity.fieldwork",
    "incity.analysis",
    "incity.exports",
    "incity.dashboards",
    "incity.maps",
    "incity.demo",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "incity.accounts.middleware.StaffTwoFactorMiddleware",
]

ROOT_URLCONF = "incity.urls"
WSGI_APPLICATION = "incity.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "incity.web.context.incity_context",
            ],
        },
    },
]

# Database: SQLite (WAL) under the data directory unless DATABASE_URL names another.
_default_database_url = f"sqlite:///{DATA_DIR / 'incity.sqlite3'}"
_database_url = env_str("DATABASE_URL", _default_database_url)
try:
    _database = dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)
except (ValueError, KeyError) as error:
    raise ConfigError(
        f"DATABASE_URL is not a database URL this incity understands ({error}); "
        "use sqlite:///path/to/file.sqlite3 or postgres://user:password@host:5432/name."
    ) from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database["CONN_MAX_AGE"] = 0
    _database["OPTIONS"] = {
        # WAL lets readers work while one writer commits; IMMEDIATE avoids
        # "database is locked" upgrades in concurrent writes.
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;PRAGMA busy_timeout=5000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_cache_url = env_str("INCITY_CACHE_URL", env_str("REDIS_URL", ""))
if _cache_url.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": _cache_url,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
elif _cache_url in ("", "file"):
    # A file cache is shared by every process on one machine, so the login
    # lockout counts failures across app server workers.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }
elif _cache_url == "memory":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ConfigError(
        f"INCITY_CACHE_URL must be redis://host:port/db, 'file' or 'memory', not {_cache_url!r}."
    )

AUTH_USER_MODEL = "accounts.User"
# Sign-in is by username, which Django's model backend handles; allauth's own
# backend is left out so the demo-account rule below cannot be bypassed.
AUTHENTICATION_BACKENDS = ["incity.accounts.backends.IncityModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: username sign-in, no self sign-up, e-mail password reset,
# TOTP two-factor, and a lockout after repeated failed sign-ins.
ACCOUNT_ADAPTER = "incity.accounts.adapters.IncityAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_PREVENT_ENUMERATION = True
# Sign-up is closed, so an unknown address gets no mail inviting it to sign up.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
LOGIN_FAILURE_LIMIT = env_int("INCITY_LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("INCITY_LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
ACCOUNT_RATE_LIMITS = {
    "login_failed": f"{LOGIN_FAILURE_LIMIT}/{LOGIN_LOCKOUT_MINUTES}m/key,"
    f"{LOGIN_FAILURE_LIMIT * 4}/{LOGIN_LOCKOUT_MINUTES}m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("INCITY_MFA_ISSUER", "incity")
# Roles whose holders must turn on two-factor sign-in before using incity.
MFA_REQUIRED_ROLES = env_list("INCITY_MFA_REQUIRED_ROLES", ["network_admin", "city_lead"])
# Demo accounts are for looking around; two-factor would only get in the way.
MFA_ENFORCED = env_bool("INCITY_MFA_ENFORCED", not DEMO_MODE)

_email_backend = env_choice("INCITY_EMAIL_BACKEND", "console", ("console", "smtp", "memory"))
EMAIL_BACKEND = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "memory": "django.core.mail.backends.locmem.EmailBackend",
}[_email_backend]
EMAIL_HOST = env_str("INCITY_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("INCITY_EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("INCITY_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_secret("INCITY_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("INCITY_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("INCITY_FROM_EMAIL", "incity <noreply@localhost>")

LANGUAGE_CODE = env_str("INCITY_LANGUAGE_CODE", "en")
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("sv", "Svenska")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("INCITY_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Leaflet comes from PyPI (xstatic-leaflet), served as /static/leaflet/leaflet.js and .css.
STATICFILES_DIRS = [("leaflet", _xstatic_leaflet.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
WHITENOISE_USE_FINDERS = True

# Published aggregates never show a count below this (projects may raise it).
DISCLOSURE_THRESHOLD = env_int("INCITY_DISCLOSURE_THRESHOLD", 10, minimum=2)
# API tokens expire after this many days unless made with another lifetime.
API_TOKEN_DAYS = env_int("INCITY_API_TOKEN_DAYS", 90, minimum=1, maximum=3650)

NINJA_PAGINATION_PER_PAGE = 50


def _encryption_keys() -> list[str]:
    """Fernet keys for sensitive answers, newest first; older keys only decrypt."""
    keys = env_list("INCITY_ENCRYPTION_KEYS", [])
    if keys or not DEMO_MODE:
        return keys
    # Demo mode only: a key generated once and kept beside the demo database.
    key_file = DATA_DIR / "demo-encryption-key"
    if key_file.exists():
        return [key_file.read_text(encoding="utf-8").strip()]
    from cryptography.fernet import Fernet

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode("ascii")
    key_file.write_text(key, encoding="utf-8")
    key_file.chmod(0o600)
    return [key]


# Sensitive answers (migration status and the like) are encrypted with these keys.
ENCRYPTION_KEYS = _encryption_keys()
# Uploaded XLSForms and form media files above these sizes are refused.
FORM_UPLOAD_MAX_BYTES = env_int("INCITY_FORM_UPLOAD_MAX_MB", 10, minimum=1) * 1024 * 1024
FORM_MEDIA_MAX_BYTES = env_int("INCITY_FORM_MEDIA_MAX_MB", 20, minimum=1) * 1024 * 1024
# The batch submission endpoint takes at most this many submissions at once.
SUBMISSION_BATCH_MAX = 1000
# Large enough for a full batch of submissions; larger bodies are refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("INCITY_MAX_REQUEST_MB", 25, minimum=1) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- collection (offline web app, OpenRosa, map questions) ---
# OpenRosa (ODK Collect, KoboCollect): the largest submission POST (XML and its photos) taken in
# one request; phones split larger ones. Announced as X-OpenRosa-Accept-Content-Length.
OPENROSA_MAX_BYTES = env_int("INCITY_OPENROSA_MAX_MB", 25, minimum=1) * 1024 * 1024

# Map questions' basemap tiles ({z}/{x}/{y} URL template) and the credit the tile provider asks for.
MAP_TILE_URL = env_str("INCITY_MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env_str(
    "INCITY_MAP_TILE_ATTRIBUTION",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)
# Boundary files (GeoJSON, GeoPackage, Shapefile zip) and plan images above these are refused.
BOUNDARY_UPLOAD_MAX_BYTES = env_int("INCITY_BOUNDARY_UPLOAD_MAX_MB", 50, minimum=1) * 1024 * 1024
PLAN_IMAGE_MAX_BYTES = env_int("INCITY_PLAN_IMAGE_MAX_MB", 10, minimum=1) * 1024 * 1024

# --- analysis (estimates, disclosure control, spatial statistics) ---

# --- exports and background jobs ---

# Background jobs run on django-tasks. "database" queues them in incity's own database
# (no extra server; `incity worker` runs them, and `incity demo` starts one alongside);
# "immediate" runs each job in the process that started it (tests and debugging only).
TASKS_BACKEND = env_choice("INCITY_TASKS_BACKEND", "database", ("database", "immediate"))
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks_db.DatabaseBackend"
            if TASKS_BACKEND == "database"
            else "django_tasks.backends.immediate.ImmediateBackend"
        ),
        "QUEUES": ["default", "exports"],
    }
}
# Finished export files (one per job; a job's file is served only to whoever asked for it).
EXPORTS_DIR = DATA_DIR / "exports"
# Submissions read (and rows written) per step of an export; progress is saved after each.
EXPORT_CHUNK_SIZE = env_int("INCITY_EXPORT_CHUNK_SIZE", 5000, minimum=100)
# SPSS and Stata files are built in memory (pyreadstat cannot append): a table longer
# than this is written as several files of at most this many rows, zipped together.
EXPORT_STATS_PART_ROWS = env_int("INCITY_EXPORT_STATS_PART_ROWS", 100_000, minimum=2)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("INCITY_LOG_LEVEL", "WARNING")},
}
