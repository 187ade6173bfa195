"""Settings, read from the environment.

DATABASE_URL      default sqlite:///<repo>/var/db.sqlite3; postgres://... for PostgreSQL
CELERY_BROKER_URL empty: tasks run in-process (eagerly); redis://... for a real worker
BROKER_VISIBILITY_TIMEOUT seconds before Redis redelivers an unacknowledged task (900)
INTAKE_KICK_WINDOW_MS  a web process queues at most one intake drain per window (500)
DB_CONN_MAX_AGE   seconds a database connection is reused (60, 0 with DEBUG; 0 = one per request)
DB_CONN_HEALTH_CHECKS  1: check a reused connection at each request's start (off)
SECRET_KEY, DEBUG, ALLOWED_HOSTS, TIME_ZONE
EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS,
EMAIL_USE_SSL, DEFAULT_FROM_EMAIL   email (console by default)
SMS_PROVIDER_URL, SMS_PROVIDER_TOKEN                              the SMS provider
WEBHOOK_ALLOWED_HOSTS  comma-separated hosts webhooks may reach although internal
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
#: Uploaded files (CSV imports waiting for or done by their background job).
MEDIA_ROOT = os.environ.get("MEDIA_ROOT", str(VAR_DIR / "media"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    # modeltranslation must come before the admin (it patches admin classes).
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "djmoney",
    "django_celery_beat",
    "ninja",  # the API docs' static files
    "shops",
    "loyalty",
    "pricing",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A staff user's chosen admin language wins over the browser's (shops/admin_language.py).
    "shops.admin_language.StaffLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# Persistent connections: a request (or a task) reuses its thread's connection instead of
# opening one (a new PostgreSQL connection costs a few ms, more than an order's statements).
# CONN_HEALTH_CHECKS is off by default: it costs a `SELECT 1` round trip at the start of every
# request; without it a connection the server dropped fails one request per thread, which
# Django then closes. Turn it on (DB_CONN_HEALTH_CHECKS=1) where a proxy or the server cuts
# idle connections routinely. Not with psycopg's pool (it needs CONN_MAX_AGE 0).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        # runserver (DEBUG) starts a thread per request, which persistent connections do
        # not survive: Django advises against them there.
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", 0 if DEBUG else 60)),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", False),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the admin read while a recalculation or the scheduler writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite ignores an index's INCLUDE columns; the index still serves, on PostgreSQL it
# additionally answers keyset batch bounds from the index alone.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("pl", _("Polish")),
    ("uk", _("Ukrainian")),
    ("ru", _("Russian")),
    ("fr", _("French")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
# modeltranslation's tabbed admin loads jQuery UI from a public CDN by default; nothing the
# admin loads may come from outside the server, so it is vendored (static/vendor/jquery-ui).
JQUERY_UI_URL = "vendor/jquery-ui/jquery-ui.min.js"
JQUERY_URL = "admin/js/vendor/jquery/jquery.min.js"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Vendored front-end files (Chart.js for the statistics page, jQuery UI for the translation
# tabs), served as static files.
STATICFILES_DIRS = [BASE_DIR / "static"]

# django-money: an explicit list keeps migrations stable.
CURRENCIES = ("PLN", "UAH", "EUR", "USD", "GBP", "CZK", "RON", "HUF")
CURRENCY_CHOICES = [(c, c) for c in CURRENCIES]

# Celery. No broker configured: tasks run in-process, so SQLite-only setups need no server.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers a task that was not acknowledged within the visibility timeout: with
# acks_late that is how the task of a killed worker runs again. It must exceed the longest
# task (a full recalculation plus segment refresh of a 1M-customer shop: about 4 minutes,
# bench/README.md), and bounds how late a killed task is retried. Every acks_late task is
# idempotent, and one delivered twice while the first still runs is harmless: a
# recalculation sees its run alive (loyalty.runs), deliveries hold message leases
# (notifications.delivery). Beat, workers and producers must all use the same value.
BROKER_VISIBILITY_TIMEOUT = int(os.environ.get("BROKER_VISIBILITY_TIMEOUT", 900))
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": BROKER_VISIBILITY_TIMEOUT}
# With a broker, a web process queues at most one intake drain per this many ms (a kick asked
# for meanwhile is sent at the window's end: shops.intake.KickDebounce); 0 kicks on every
# commit. Bounds the drain lag from below and the Redis publishes per second from above.
INTAKE_KICK_WINDOW_MS = int(os.environ.get("INTAKE_KICK_WINDOW_MS", 500))

# Storefront API: requests with a larger body are refused (413) before they are read.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", 1024 * 1024))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# SMTP (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Patron <noreply@patron.local>")

# Notifications: the SMS provider's HTTP endpoint and token; delivery retries.
SMS_PROVIDER_URL = os.environ.get("SMS_PROVIDER_URL", "")
SMS_PROVIDER_TOKEN = os.environ.get("SMS_PROVIDER_TOKEN", "")
# Webhooks post to public addresses only (notifications.addresses); these hosts (names or IP
# literals) are exempt, e.g. a receiver on the same machine or in the same private network.
WEBHOOK_ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("WEBHOOK_ALLOWED_HOSTS", "").split(",") if h.strip()
]
NOTIFICATIONS_HTTP_TIMEOUT = int(os.environ.get("NOTIFICATIONS_HTTP_TIMEOUT", "10"))
NOTIFICATIONS_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATIONS_MAX_ATTEMPTS", "6"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
