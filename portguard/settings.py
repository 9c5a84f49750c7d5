"""PortGuard settings.

One module, driven by environment variables. With no variable set at all it runs the
embedded default: SQLite and the in-memory channel layer. ``DATABASE_URL`` and
``REDIS_URL`` switch to the production shape (PostgreSQL and channels_redis).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, not {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_addresses(name: str) -> list[tuple[str, int]]:
    """``host:port,host:port,…`` (an IPv6 host in brackets) as a list of ``(host, port)``."""
    addresses = []
    for item in env_list(name, []):
        host, _colon, port = item.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ImproperlyConfigured(f"{name} must be host:port pairs separated by commas, not {item!r}")
        addresses.append((host, int(port)))
    return addresses


DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if env_str("DATABASE_URL"):
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set (production).")
    # The embedded default is for a single machine and demo data only.
    SECRET_KEY = "portguard-embedded-default-not-for-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "portguard.errors.csrf_failure"

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "axes",
    "csp",
    "drf_spectacular",
    "channels",
    "portguard",
    "vessels",
    "crews",
    "realtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "portguard.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portguard.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

# Database sessions that report a lost database as one (a 503, not a 400).
SESSION_ENGINE = "portguard.sessions"

ROOT_URLCONF = "portguard.urls"
ASGI_APPLICATION = "portguard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portguard" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# Database: SQLite by default. Writers open their transactions with BEGIN IMMEDIATE so
# that the approval check and any concurrent result are serialised (rule R1).
_sqlite_path = env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{_sqlite_path}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
# PostgreSQL: Django's own connection pool (psycopg_pool) when DB_POOL_MAX_SIZE is set.
# Under daphne each request runs in a thread of its own; with persistent connections
# (DB_CONN_MAX_AGE) every such thread kept one open until PostgreSQL refused new clients.
# With the pool a request borrows a connection and gives it back when it ends, so a
# process never holds more than DB_POOL_MAX_SIZE, and a request waits up to
# DB_POOL_TIMEOUT seconds for one rather than failing.
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 0)
if DB_POOL_MAX_SIZE and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(env_int("DB_POOL_MIN_SIZE", 2), DB_POOL_MAX_SIZE),
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": env_int("DB_POOL_TIMEOUT", 10),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    # A file, not memory: the race tests open connections from several threads.
    DATABASES["default"]["TEST"] = {"NAME": env_str("SQLITE_TEST_PATH", str(BASE_DIR / "test-db.sqlite3"))}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: one server (REDIS_URL), or a master and its replicas watched by Redis Sentinel
# (REDIS_SENTINELS, the sentinels' host:port list, and REDIS_SENTINEL_MASTER, the name
# they monitor it by). With Sentinel, the channel layer and the cache ask the sentinels
# for the master on every new connection: when the master dies and a replica is promoted,
# what broke connects again to the new master (README, Production).
REDIS_URL = env_str("REDIS_URL")
REDIS_SENTINELS = env_addresses("REDIS_SENTINELS")
REDIS_SENTINEL_MASTER = env_str("REDIS_SENTINEL_MASTER")
if bool(REDIS_SENTINELS) != bool(REDIS_SENTINEL_MASTER):
    raise ImproperlyConfigured(
        "REDIS_SENTINELS and REDIS_SENTINEL_MASTER go together: the sentinels' addresses and the name "
        "of the master they monitor."
    )
if REDIS_SENTINELS and REDIS_URL:
    raise ImproperlyConfigured(
        "Set REDIS_URL (one Redis server) or REDIS_SENTINELS (a master found by Sentinel), not both."
    )
USE_REDIS = bool(REDIS_URL or REDIS_SENTINELS)
# Where the channel layer finds Redis (channels_redis's host forms); a sentinel that does
# not answer is passed over after 3 s.
_REDIS_SERVER = (
    {
        "sentinels": REDIS_SENTINELS,
        "master_name": REDIS_SENTINEL_MASTER,
        "sentinel_kwargs": {"socket_connect_timeout": 3, "socket_timeout": 3},
    }
    if REDIS_SENTINELS
    else {"address": REDIS_URL}
)

# Channels: in-memory for one process, Redis when REDIS_URL or REDIS_SENTINELS is given. The pub/sub layer
# publishes each event once per group and every daphne process fans it out to its own
# sockets: one Redis message per event, not one per socket. Delivery is at most once,
# which dashboards tolerate: they re-read a snapshot whenever they reconnect, and a
# process that lost Redis closes its sockets so that they do (realtime/layers.py). A
# failover of the master under Sentinel is such a loss.
if USE_REDIS:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.layers.RedisPubSubChannelLayer",
            "CONFIG": {
                # Reads poll every 0.1 s, so a 10 s read timeout only trips on a dead server.
                "hosts": [{**_REDIS_SERVER, "socket_connect_timeout": 3, "socket_timeout": 10}],
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "realtime.layers.InMemoryChannelLayer"}}
# The cache counts the public doors' rate limits (portguard/ratelimit.py), the failed
# log-ins (portguard/logins.py) and the API's throttles (portguard/throttling.py): shared
# through Redis when it is given (either way), so that every limit holds across processes; in
# the process's memory otherwise (the embedded default is one process).
# A Redis that does not answer costs a request two seconds, not a hang; the limits then
# step aside (portguard/throttling.py, portguard/logins.py).
_CACHE_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 2}
if REDIS_SENTINELS:
    CACHES = {
        "default": {
            # Django's Redis cache, reaching the master through the sentinels.
            "BACKEND": "portguard.redis_sentinel.SentinelRedisCache",
            "LOCATION": REDIS_SENTINEL_MASTER,
            "KEY_PREFIX": "portguard",
            "OPTIONS": {"sentinels": REDIS_SENTINELS, **_CACHE_TIMEOUTS},
        }
    }
elif REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portguard",
            "OPTIONS": _CACHE_TIMEOUTS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# With Redis, each process says every this many milliseconds that it is alive; one silent
# for three beats is taken for dead, and the others' dashboards re-read their snapshots.
PORTGUARD_PROCESS_HEARTBEAT_MS = env_int("PORTGUARD_PROCESS_HEARTBEAT_MS", 2000)
# A dashboard snapshot read for one socket is kept for the next sockets of the same
# wharves until a message for them reaches the process (realtime/shared.py), and at most
# this long, for what changes with no message at all. 0: read one for every socket.
PORTGUARD_SNAPSHOT_KEEP_SECONDS = env_float("PORTGUARD_SNAPSHOT_KEEP_SECONDS", 30)

# The clock (vessels/clock.py) announces the states that change with time alone (a
# negative past its validity, a KCS test becoming overdue) every this many seconds. It
# holds a lease for this long and renews it at every tick: when its process dies, another
# process's clock takes over within lease + tick seconds (under a minute by default).
PORTGUARD_CLOCK_TICK_SECONDS = env_float("PORTGUARD_CLOCK_TICK_SECONDS", 15)
PORTGUARD_CLOCK_LEASE_SECONDS = env_float("PORTGUARD_CLOCK_LEASE_SECONDS", 40)
if not 0 < PORTGUARD_CLOCK_TICK_SECONDS < PORTGUARD_CLOCK_LEASE_SECONDS:
    raise ImproperlyConfigured(
        "PORTGUARD_CLOCK_TICK_SECONDS must be above 0 and below PORTGUARD_CLOCK_LEASE_SECONDS, "
        "or the clock would lose its lease between two ticks."
    )
# With the in-memory layer (no REDIS_URL) an event reaches only the sockets of the process
# that sent it, so the clock runs inside daphne; with Redis it is `manage.py clock`.
PORTGUARD_CLOCK_IN_PROCESS = env_bool("PORTGUARD_CLOCK_IN_PROCESS", default=not USE_REDIS)
# Retention (crews/retention.py): a person whose last port call departed, or whose last
# KCS assignment ended, this many days ago (and nothing else of theirs is that recent)
# is anonymised by the clock once a day, or by manage.py anonymise_personal_data.
PORTGUARD_RETENTION_DAYS = env_int("PORTGUARD_RETENTION_DAYS", 180)
if PORTGUARD_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("PORTGUARD_RETENTION_DAYS must be at least 1.")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Login throttling (django-axes, portguard/logins.py): after PORTGUARD_LOGIN_FAILURE_LIMIT
# failed log-ins the pair of user name and address is locked out for
# PORTGUARD_LOGIN_LOCKOUT_MINUTES (each further try starts the wait again). The pair, not
# the address alone: inspectors' phones share a few carrier addresses, and one of them
# mistyping must not lock out the others. PORTGUARD_LOGIN_LOCKOUT_BY lists what is counted
# (comma-separated; "username+ip_address" is the pair, "ip_address" the address alone).
# The counts live in Django's cache, so they hold across processes with REDIS_URL.
# `manage.py axes_reset_username NAME` (or the users' admin) lifts a lock-out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # A user's permissions in one query (portguard.roles); it logs nobody in.
    "portguard.roles.PermissionBackend",
    # Logins, as before: sessions name this backend. Its permission checks find the
    # permissions the first one read (the user's _perm_cache) and add no query.
    "django.contrib.auth.backends.ModelBackend",
]
PORTGUARD_LOGIN_FAILURE_LIMIT = env_int("PORTGUARD_LOGIN_FAILURE_LIMIT", 5)
PORTGUARD_LOGIN_LOCKOUT_MINUTES = env_int("PORTGUARD_LOGIN_LOCKOUT_MINUTES", 15)
_LOCKOUT_FIELDS = {"username", "ip_address", "user_agent"}
AXES_LOCKOUT_PARAMETERS = []
for _item in env_list("PORTGUARD_LOGIN_LOCKOUT_BY", ["username+ip_address"]):
    _fields = _item.split("+")
    if not set(_fields) <= _LOCKOUT_FIELDS:
        raise ImproperlyConfigured(
            f"PORTGUARD_LOGIN_LOCKOUT_BY: {_item!r} is not made of {', '.join(sorted(_LOCKOUT_FIELDS))} joined by +"
        )
    AXES_LOCKOUT_PARAMETERS.append(_fields if len(_fields) > 1 else _fields[0])
AXES_FAILURE_LIMIT = PORTGUARD_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=PORTGUARD_LOGIN_LOCKOUT_MINUTES)
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "portguard.logins.LoginLockouts"
AXES_LOCKOUT_CALLABLE = "portguard.logins.locked_out"
AXES_CLIENT_IP_CALLABLE = "portguard.ratelimit.client_address"
# The cache handler writes nothing to the database: axes' admin pages would stay empty.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False  # no banner on every management command's stderr

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# HTTPS=true: served over HTTPS behind a proxy that sets X-Forwarded-Proto.
HTTPS = env_bool("HTTPS", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=HTTPS)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Links to other sites carry no path of ours (Django's default, said here on purpose).
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp 4): scripts, styles, images and workers from this
# site only, no inline script or style and no eval, nothing may frame a page. Sockets go
# to this site ('self' covers ws/wss of the same host in current browsers; the scheme
# sources are for older Safari); JSON data blocks (json_script) are not scripts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", "wss:"] if HTTPS else ["'self'", "ws:", "wss:"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features PortGuard does not use (portguard/headers.py).
PORTGUARD_PERMISSIONS_POLICY = env_str(
    "PORTGUARD_PERMISSIONS_POLICY",
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), midi=(), display-capture=()",
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous call is answered 401 with WWW-Authenticate: Token.
        "portguard.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portguard.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": ["portguard.throttling.WriteThrottle", "portguard.throttling.UploadThrottle"],
}
# API throttling (portguard/throttling.py), per user, counted in the cache like the login
# lock-outs: writes (POST, PUT, PATCH, DELETE) and, among them, file uploads; reads are
# not throttled. "<number>/<second|minute|hour|day>". An inspector at a shift change
# sends a few results a minute; a lab's system should send its results as one file.
PORTGUARD_API_WRITE_RATE = env_str("PORTGUARD_API_WRITE_RATE", "240/minute")
PORTGUARD_API_UPLOAD_RATE = env_str("PORTGUARD_API_UPLOAD_RATE", "60/hour")
# API tokens (portguard/tokens.py): how many days a new token is valid (issue_token --days
# overrides it for one token). One token per device, revocable at any time before that.
PORTGUARD_API_TOKEN_DAYS = env_int("PORTGUARD_API_TOKEN_DAYS", 90)
if PORTGUARD_API_TOKEN_DAYS < 1:
    raise ImproperlyConfigured("PORTGUARD_API_TOKEN_DAYS must be at least 1.")
SPECTACULAR_SETTINGS = {
    "TITLE": "PortGuard API",
    "DESCRIPTION": "Screening of inland-waterway vessels, crews and KCS staff in Quảng Ninh.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several fields are called "kind" (of a vessel, of a test, of a kit): give each enum its own name.
    "ENUM_NAME_OVERRIDES": {
        "VesselKindEnum": "vessels.choices.VesselKind",
        "TestKindEnum": "crews.choices.TestKind",
        "KitKindEnum": "crews.choices.KitKind",
        "KitAdjustmentReasonEnum": "crews.choices.KitAdjustmentReason",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Rule R1: how long a negative sample clears a person for handover.
PORTGUARD_RAPID_VALIDITY_HOURS = env_int("PORTGUARD_RAPID_VALIDITY_HOURS", 24)
PORTGUARD_RT_PCR_VALIDITY_HOURS = env_int("PORTGUARD_RT_PCR_VALIDITY_HOURS", 72)
# Sample times a few minutes ahead of the server clock are phone clock drift, not the future.
PORTGUARD_CLOCK_SKEW_MINUTES = env_int("PORTGUARD_CLOCK_SKEW_MINUTES", 5)
# Whoever recorded a result may correct it within one shift; health officers at any time.
PORTGUARD_CORRECTION_WINDOW_HOURS = env_int("PORTGUARD_CORRECTION_WINDOW_HOURS", 8)

# Rule R4: people arriving from an epidemic area are cleared only by a negative RT-PCR.
PORTGUARD_EPIDEMIC_RT_PCR_ONLY = env_bool("PORTGUARD_EPIDEMIC_RT_PCR_ONLY", default=True)

# Rule R3: KCS staff take a rapid test after each shift (overdue this many hours after
# its end) and an RT-PCR at most this many days after the previous one, pooled for the lab.
PORTGUARD_RAPID_OVERDUE_HOURS = env_int("PORTGUARD_RAPID_OVERDUE_HOURS", 2)
PORTGUARD_RT_PCR_INTERVAL_DAYS = env_int("PORTGUARD_RT_PCR_INTERVAL_DAYS", 3)
PORTGUARD_POOL_SIZE = env_int("PORTGUARD_POOL_SIZE", 5)

# Rule R7: a rapid result naming a kit lot that was not delivered to its station or wharf,
# or that had expired on the sample day, is refused ("refuse") or kept with a warning ("warn").
PORTGUARD_KIT_LOT_CHECK = env_str("PORTGUARD_KIT_LOT_CHECK", "refuse")
if PORTGUARD_KIT_LOT_CHECK not in ("refuse", "warn"):
    raise ImproperlyConfigured(f"PORTGUARD_KIT_LOT_CHECK must be refuse or warn, not {PORTGUARD_KIT_LOT_CHECK!r}")

# Uploads (crew lists, lab results, rosters): a larger file or more rows is refused whole.
PORTGUARD_UPLOAD_MAX_MB = env_int("PORTGUARD_UPLOAD_MAX_MB", 10)
PORTGUARD_UPLOAD_MAX_ROWS = env_int("PORTGUARD_UPLOAD_MAX_ROWS", 20000)

# Rule R6: the public health declaration. Per caller address and window, at most this many
# declarations or amendments sent (form and API) and this many receipt look-ups; past that
# the answer is 429 with Retry-After. Behind PORTGUARD_PROXY_HOPS trusted proxies the
# address is read from X-Forwarded-For. A declaration's body is refused above this size.
PORTGUARD_DECLARATION_RATE_WINDOW_SECONDS = env_int("PORTGUARD_DECLARATION_RATE_WINDOW_SECONDS", 600)
PORTGUARD_DECLARATIONS_PER_WINDOW = env_int("PORTGUARD_DECLARATIONS_PER_WINDOW", 10)
PORTGUARD_RECEIPT_LOOKUPS_PER_WINDOW = env_int("PORTGUARD_RECEIPT_LOOKUPS_PER_WINDOW", 30)
PORTGUARD_PROXY_HOPS = env_int("PORTGUARD_PROXY_HOPS", 0)
PORTGUARD_DECLARATION_MAX_BYTES = env_int("PORTGUARD_DECLARATION_MAX_BYTES", 65536)

# E-mail alerts (vessels/mail_alerts.py): an officer who opts in on /profile/ gets one
# e-mail per positive in their scope, stored in an outbox with the alert and sent by the
# clock. With EMAIL_HOST set they go out by SMTP; the embedded default prints them on the
# console of the process running the clock, so the demo needs no mail server.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
if env_str("EMAIL_FILE_PATH"):
    EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true: choose STARTTLS or SSL.")
EMAIL_PORT = env_int("EMAIL_PORT", 465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
# A mail server that does not answer must not hold the clock's tick for long.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "PortGuard <portguard@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address the e-mails link to (no trailing slash needed).
PORTGUARD_BASE_URL = env_str("PORTGUARD_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
