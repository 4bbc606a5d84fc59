"""ISMIT settings: every value comes from the environment (see docs/configuration.md).

The defaults make the embedded mode work with no configuration: SQLite under var/, console e-mail,
an embedded task transport. Production differs only by environment variables.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from ismit.lib.env import env_bool, env_int, env_list, env_secret, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ISMIT_VAR_DIR", str(Path.cwd() / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)
# Production mode is any deployment that sets ISMIT_ENV=production: secrets become mandatory.
PRODUCTION = env_str("ISMIT_ENV", "embedded") == "production"


def _secret_key() -> str:
    key = env_secret("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when ISMIT_ENV=production")
    # Embedded mode: one key per installation, kept under var/ so every process shares it.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _signing_secret() -> str:
    """The key that encrypts the documents' signing keys at rest (documents/keys.py)."""
    secret = env_secret("ISMIT_SIGNING_SECRET")
    if secret:
        return secret
    # Derived from SECRET_KEY, so every process that shares SECRET_KEY can decrypt the keys. Set it on its
    # own in production: rotating SECRET_KEY would otherwise make the stored signing keys unreadable.
    return hmac.new(SECRET_KEY.encode(), b"ismit.documents.signing-keys", hashlib.sha256).hexdigest()


ISMIT_SIGNING_SECRET = _signing_secret()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves the API docs' swagger-ui from its own static files: no CDN, works offline
    "ismit.audit",
    "ismit.outbox",
    "ismit.refdata",
    "ismit.accounts",
    "ismit.trades",
    "ismit.compliance",
    "ismit.documents",
    "ismit.customs",
    "ismit.finance",
    "ismit.marketplace",
    "ismit.logistics",
    "ismit.tracking",
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
    "ismit.accounts.middleware.ActorMiddleware",
]

ROOT_URLCONF = "ismit.config.urls"
WSGI_APPLICATION = "ismit.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ismit.accounts.context_processors.actor",
            ],
        },
    }
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
_default_db = f"sqlite:///{VAR_DIR / 'ismit.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _default_db),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Server-side binding lets psycopg prepare the queries a process repeats, so PostgreSQL plans each once
# per connection (the detail reads join a dozen tables). Turn off behind a transaction-pooling proxy.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "trades:list"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions and cookies: secure by default behind HTTPS (ISMIT_HTTPS=1 in production).
HTTPS = env_bool("ISMIT_HTTPS", PRODUCTION)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("ISMIT_BEHIND_PROXY", False) else None
)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Internationalisation: English and French from day one.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "UTC")

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Official standards files under copyleft licences, not shipped (see ismit/documents/standards.py).
ISMIT_STANDARDS_DIR = env_str("ISMIT_STANDARDS_DIR", "")
# Landed-cost assumptions (compliance/landed.py): freight as a % of the goods value per Rec 19 mode
# ("1=5,4=12"), and the cargo insurance premium in %.
COMPLIANCE_FREIGHT_PERCENT = dict(
    item.split("=", 1) for item in env_list("COMPLIANCE_FREIGHT_PERCENT", []) if "=" in item
)
COMPLIANCE_INSURANCE_PERCENT = env_str("COMPLIANCE_INSURANCE_PERCENT", "0.3")
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": env_str("ISMIT_FILE_STORAGE", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "ismit.lib.storage.StaticStorage"},
}
# Serve static files straight from the package when `collectstatic` has not run (tests, development).
WHITENOISE_USE_FINDERS = True

# E-mail: console in the embedded mode.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)  # seconds: a mail server that hangs does not hold a worker
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ISMIT <no-reply@ismit.invalid>")

# Background work (docs/architecture.md, "Background work and the outbox"). The embedded default is
# kombu's filesystem transport: no server, messages are files under var/broker/ that survive restarts and
# are shared by the web processes and the workers of ONE machine. Several machines: RabbitMQ (amqp://).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost/")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT = "ismit.config.broker:Transport"  # messages written whole (see that module)
    _queue_dir, _control_dir = VAR_DIR / "broker" / "queue", VAR_DIR / "broker" / "control"
    for _folder in (_queue_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(_control_dir),
        "polling_interval": 0.2,  # seconds between looks at the folder when it is empty
    }
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False  # broadcast queues would pile up files nobody reads
CELERY_TASK_DEFAULT_QUEUE = env_str("ISMIT_TASK_QUEUE", "celery")  # one per deployment sharing a broker
CELERY_TASK_ACKS_LATE = True  # a task is acknowledged when it has run, not when it is received
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ...so a killed worker's task is delivered again
# Each worker process has a few tasks at hand (the pool gives them only to a process that is free): with one,
# the worker waited for the broker between every two tasks (a third of a no-op task's CPU). A delivery's
# claim is taken when it runs, not when it is reserved; a reserved task not acknowledged goes back to the
# queue if the worker is lost.
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # no result backend: tasks write their outcome to the database
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The transactional outbox (ismit.outbox): retries with exponential backoff, then the dead-letter state.
OUTBOX_MAX_ATTEMPTS = env_int("ISMIT_OUTBOX_MAX_ATTEMPTS", 8)
OUTBOX_BACKOFF_BASE_S = env_int("ISMIT_OUTBOX_BACKOFF_BASE_S", 2)
OUTBOX_BACKOFF_FACTOR = env_int("ISMIT_OUTBOX_BACKOFF_FACTOR", 2)
OUTBOX_BACKOFF_MAX_S = env_int("ISMIT_OUTBOX_BACKOFF_MAX_S", 600)
OUTBOX_CLAIM_TIMEOUT_S = env_int("ISMIT_OUTBOX_CLAIM_TIMEOUT_S", 120)
OUTBOX_SWEEP_INTERVAL_S = env_int("ISMIT_OUTBOX_SWEEP_INTERVAL_S", 5)
OUTBOX_REDISPATCH_AFTER_S = env_int("ISMIT_OUTBOX_REDISPATCH_AFTER_S", 30)
# Single windows (ismit.customs): how often every window is polled for answers whose callback was lost (and
# the answers stored whose task was lost are applied).
CUSTOMS_POLL_INTERVAL_S = env_int("ISMIT_CUSTOMS_POLL_INTERVAL_S", 15)
# A web process sends the task that applies the answers it stored at most once per this many milliseconds
# (the task applies every answer waiting, of every declaration).
CUSTOMS_APPLY_INTERVAL_MS = env_int("ISMIT_CUSTOMS_APPLY_INTERVAL_MS", 500)
# The audit log (ismit.audit): a process links the events committed into the hash chain at most once per
# this many milliseconds, after a commit (0: after every commit); the periodic job links the rest.
AUDIT_LINK_INTERVAL_MS = env_int("ISMIT_AUDIT_LINK_INTERVAL_MS", 1000)
# How long a process keeps the code-list rows it has read (ismit.refdata.lookup); 0: read every time.
CODE_LIST_CACHE_S = env_int("ISMIT_CODE_LIST_CACHE_S", 300)
# FX settlement reports and VAT refund claims (ismit/finance/crosscheck.py): payments may fall short of the
# invoice by this % (bank charges); a VAT refund is claimed within this many months of the export; the
# highest VAT rate a refund may reach, in % of the export value.
FINANCE_PAYMENT_TOLERANCE_PCT = env_str("ISMIT_FINANCE_PAYMENT_TOLERANCE_PCT", "2")
FINANCE_CLAIM_WINDOW_MONTHS = env_int("ISMIT_FINANCE_CLAIM_WINDOW_MONTHS", 12)
FINANCE_MAX_VAT_RATE_PCT = env_str("ISMIT_FINANCE_MAX_VAT_RATE_PCT", "30")
# Tracking (ismit.tracking): a delay is flagged when the ETA passes the planned arrival by this many hours;
# a shipment in transit without news for this many days raises an alert, and so does a document step not
# done this many days before the planned departure; carriers' DCSA endpoints are polled this often.
TRACKING_DELAY_HOURS = env_int("ISMIT_TRACKING_DELAY_HOURS", 24)
TRACKING_SILENCE_DAYS = env_int("ISMIT_TRACKING_SILENCE_DAYS", 3)
TRACKING_DOCUMENT_CUTOFF_DAYS = env_int("ISMIT_TRACKING_DOCUMENT_CUTOFF_DAYS", 2)
TRACKING_POLL_INTERVAL_S = env_int("ISMIT_TRACKING_POLL_INTERVAL_S", 300)
# The shipment map: a tile server URL ("https://tile.example.org/{z}/{x}/{y}.png") and its attribution;
# empty, the map shows the route on the world outline the platform serves itself (no outside request).
MAP_TILES_URL = env_str("ISMIT_MAP_TILES_URL", "")
MAP_TILES_ATTRIBUTION = env_str("ISMIT_MAP_TILES_ATTRIBUTION", "")

# Uploads: bulk import files are read in memory up to this size.
BULK_IMPORT_MAX_BYTES = env_int("ISMIT_BULK_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
BULK_IMPORT_MAX_ROWS = env_int("ISMIT_BULK_IMPORT_MAX_ROWS", 5000)
API_PAGE_SIZE = env_int("ISMIT_API_PAGE_SIZE", 50)
BENCH_ENDPOINTS = env_bool("ISMIT_BENCH", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
