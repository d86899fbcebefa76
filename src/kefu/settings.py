"""Kefu settings. Everything comes from ``KEFU_*`` environment variables (docs/configuration.md).

Defaults are the production-safe ones: DEBUG off, a secret generated once and kept in the data
directory, secure cookies and HSTS whenever the public base URL is https.
"""

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


SRC_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(_env("KEFU_DATA_DIR", "./var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    if key := _env("KEFU_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        # Created exclusively so two processes starting together agree on one key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(64))
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"{path} is empty; delete it or set KEFU_SECRET_KEY")
    return key


SECRET_KEY = _secret_key()
DEBUG = _env_bool("KEFU_DEBUG")
BASE_URL = _env("KEFU_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
_base = urlsplit(BASE_URL)
if _base.scheme not in {"http", "https"} or not _base.hostname:
    raise ImproperlyConfigured(f"KEFU_BASE_URL must be an http(s) URL, not {BASE_URL!r}")
ALLOWED_HOSTS = [
    h.strip()
    for h in _env("KEFU_ALLOWED_HOSTS", f"{_base.hostname},127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [f"{_base.scheme}://{_base.netloc}"]
REDIS_URL = _env("KEFU_REDIS_URL")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "django_htmx",
    "kefu.core",
    "kefu.accounts",
    "kefu.crm",
    "kefu.tickets",
    "kefu.web",
    "ninja",  # serves the API docs' own static files (no CDN)
    "kefu.api",
    "kefu.search",
    "kefu.surveys",
    "kefu.channels.email",
    "kefu.rules",
    "kefu.sla",
    "axes",
    "kefu.channels.portal",
    "kefu.web.admin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "kefu.web.static.StaticFilesMiddleware",  # ServeStatic; only under STATIC_URL (kefu.asgi)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kefu.web.middleware.UserPreferencesMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kefu.api.middleware.ApiMiddleware",  # /api/v2 only: .json, rate limits, idempotency
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kefu.urls"
ASGI_APPLICATION = "kefu.asgi.application"
WSGI_APPLICATION = "kefu.wsgi.application"

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
                "kefu.web.context_processors.shell",
                "kefu.web.admin.context_processors.branding",  # after shell: overrides its name
            ],
        },
    },
]


# --- Database -------------------------------------------------------------------------------
def database_config(url: str, *, variable: str = "KEFU_DATABASE_URL") -> dict[str, Any]:
    """Django's settings for one database URL (SQLite or PostgreSQL)."""
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{variable} is not a database URL: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # WAL lets readers run while one writer writes; IMMEDIATE takes the write lock at
            # BEGIN so two writers queue on busy_timeout instead of failing with "locked".
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
                "PRAGMA cache_size=-65536;PRAGMA temp_store=MEMORY"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # No JIT compilation of queries (unless the URL's ``options`` set ``jit``): Kefu's
        # queries are short, and on tables whose statistics lag behind a load (an import, a
        # migration) PostgreSQL estimated a batch read of the SLA re-evaluation at 300 million
        # cost units and compiled it on every run, 450 ms each (bench/RESULTS.md).
        options = config.setdefault("OPTIONS", {})
        server = str(options.get("options", ""))
        if "jit" not in server:
            options["options"] = f"{server} -c jit=off".strip()
    else:
        raise ImproperlyConfigured(
            f"Kefu runs on SQLite or PostgreSQL; {config['ENGINE']} is not supported"
        )
    # Connections outlive a request (the web server keeps its request threads, kefu.asgi):
    # no connect per request, and SQLite keeps its page cache warm.
    config["CONN_MAX_AGE"] = _env_int("KEFU_DB_CONN_MAX_AGE", 60)
    config["CONN_HEALTH_CHECKS"] = True
    return config


# A web thread's connection that ended a request less than this many seconds ago skips the
# health check (a round trip) before the next one (kefu.asgi); 0: check before every request.
KEFU_DB_HEALTH_CHECK_IDLE = _env_int("KEFU_DB_HEALTH_CHECK_IDLE", 5)
DATABASE_URL = _env("KEFU_DATABASE_URL", f"sqlite:///{DATA_DIR / 'kefu.sqlite3'}")
DATABASES = {"default": database_config(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Accounts and security ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "kefu.accounts.auth.ThrottleBackend",  # django-axes: refuses locked-out sign-ins first
    "kefu.accounts.auth.EmailBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"  # a path: some code builds URLs from it (HX-Redirect)

_secure = _base.scheme == "https"
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = _secure and _env_bool("KEFU_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = _env_int("KEFU_HSTS_SECONDS", 31536000) if _secure else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _secure
SECURE_HSTS_PRELOAD = _secure
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Images only from Kefu itself: HTML from customers' emails is sanitized, but a remote <img>
# (a tracking pixel) would tell its sender when and where an agent read the message. Scripts
# and styles are Kefu's own files; the policy covers what can be enforced without breaking
# HTMX (docs/configuration.md).
SECURE_CSP = {
    "img-src": [CSP.SELF, "data:", "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if _env_bool("KEFU_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# /healthz answers over plain http for load balancers even when SSL is redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]


# --- Internationalization -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("简体中文"))]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True


# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # ServeStatic serves from finders but expects the dir
MEDIA_ROOT = DATA_DIR / "files"
# Uploads are never served from a public URL: attachments go through a permission-checked
# download view (tickets.views), so MEDIA_URL points nowhere public.
MEDIA_URL = "/_files/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# ServeStatic (WhiteNoise's ASGI-native successor) serves the apps' static files straight from
# the finders: no collectstatic step, and no sync-iterator warnings under the ASGI server.
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_AUTOREFRESH = DEBUG
FILE_UPLOAD_PERMISSIONS = 0o640
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024


# --- Background work ------------------------------------------------------------------------
# Django's Tasks API over the database-backed backend; tests switch to the immediate one.
TASKS = {
    "default": {
        "BACKEND": _env("KEFU_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# A RUNNING task older than this is taken for dead (its process was killed) and queued again.
TASK_TIMEOUT = _env_int("KEFU_TASK_TIMEOUT", 1800)
TASK_RESULT_DAYS = _env_int("KEFU_TASK_RESULT_DAYS", 7)
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": _env("KEFU_LOG_LEVEL", "INFO")},
    # The worker logs every task run at INFO (several a minute from the scheduler): too chatty
    # for the console that shows the sign-in; failures still log at WARNING/ERROR.
    "loggers": {"django.db.backends": {"level": "INFO"}, "django.tasks": {"level": "WARNING"}},
}


# --- API --------------------------------------------------------------------------------------
# Requests per minute per person (per client address before sign-in); Zendesk's plans allow
# 200-2,500. Counted in the cache above, so set KEFU_REDIS_URL when running several processes.
KEFU_API_RATE_LIMIT = _env_int("KEFU_API_RATE_LIMIT", 6000)


# --- Email (docs/email.md) ------------------------------------------------------------------
def mailer_config(url: str) -> dict[str, Any]:
    """Django's default mailer (``MAILERS["default"]``) from ``KEFU_EMAIL_URL``.

    ``smtp://user:pass@host:587?tls=1`` (STARTTLS), ``smtps://user:pass@host:465`` or
    ``smtp://...?ssl=1`` (TLS from the start), ``smtp://host:25`` (plain, a local relay);
    ``&timeout=30`` (seconds). Unset: ``smtp://127.0.0.1:25`` (a local mail server, Django's
    default). ``console://`` prints mail to the log instead (development only).
    User and password are URL-decoded (write ``@`` in a user name as ``%40``).
    """
    from urllib.parse import parse_qs, unquote

    url = url or "smtp://127.0.0.1:25"
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"KEFU_EMAIL_URL must look like smtp://user:pass@host:port, not {url!r}"
        )
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    truthy = {"1", "true", "yes", "on"}
    use_ssl = parts.scheme == "smtps" or query.get("ssl", "") in truthy
    use_tls = not use_ssl and query.get("tls", "") in truthy
    try:
        port = parts.port or (465 if use_ssl else 587 if use_tls else 25)
        timeout = int(query.get("timeout", "30"))
    except ValueError:
        raise ImproperlyConfigured(f"KEFU_EMAIL_URL has a bad port or timeout: {url!r}") from None
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname,
            "port": port,
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": use_tls,
            "use_ssl": use_ssl,
            "timeout": timeout,
        },
    }


MAILERS = {"default": mailer_config(_env("KEFU_EMAIL_URL"))}
# The first support address (seeded into the database once; admins add more).
SUPPORT_EMAIL = _env("KEFU_SUPPORT_EMAIL").strip().lower()
DEFAULT_FROM_EMAIL = _env("KEFU_DEFAULT_FROM_EMAIL", SUPPORT_EMAIL or "kefu@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The inbound SMTP receiver (`kefu run` starts it when set; `kefu smtpd` always).
SMTP_LISTEN = _env("KEFU_SMTP_LISTEN")
MAX_EMAIL_MB = _env_int("KEFU_MAX_EMAIL_MB", 25)
# --- Business rules (docs/rules.md) ---------------------------------------------------------
# How often automations run, in seconds (Zendesk: hourly).
RULES_AUTOMATION_INTERVAL = _env_int("KEFU_AUTOMATION_INTERVAL", 3600)
# Webhooks may call private, loopback and link-local addresses only when this is set (tests).
WEBHOOK_ALLOW_PRIVATE = _env_bool("KEFU_WEBHOOK_ALLOW_PRIVATE")
WEBHOOK_TIMEOUT = _env_int("KEFU_WEBHOOK_TIMEOUT", 10)
WEBHOOK_MAX_ATTEMPTS = _env_int("KEFU_WEBHOOK_MAX_ATTEMPTS", 5)
WEBHOOK_BACKOFF_SECONDS = _env_int("KEFU_WEBHOOK_BACKOFF_SECONDS", 30)
WEBHOOK_PAUSE_AFTER_FAILURES = _env_int("KEFU_WEBHOOK_PAUSE_AFTER_FAILURES", 20)

# --- Sign-in, sessions, outgoing account email (docs/portal.md) -------------------------------
LOGOUT_REDIRECT_URL = "/login/"
# A working day: agents sign in each morning; closing the browser keeps the session.
SESSION_COOKIE_AGE = _env_int("KEFU_SESSION_HOURS", 12) * 3600
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600  # reset and invitation links
# django-axes: after AXES_FAILURE_LIMIT failed sign-ins for one email from one address, that
# pair waits AXES_COOLOFF_TIME. Counted in the database, so every process agrees.
AXES_FAILURE_LIMIT = _env_int("KEFU_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = _env_int("KEFU_LOGIN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kefu.accounts.views.locked_out"
AXES_USERNAME_CALLABLE = "kefu.accounts.auth.throttle_username"
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # type: ignore[index]
