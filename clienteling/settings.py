"""Settings for the clienteling app, read from the environment.

One module for every environment. Each variable is listed in `.env.example`.
Any variable can also be given as `<NAME>_FILE` pointing at a file that holds the
value (Docker and Kubernetes secrets), thanks to django-environ's FileAwareEnv.

Development-friendly defaults (a SQLite file, a broker that needs no server, a
throwaway secret key) apply only when DEBUG is on. With DEBUG off, a missing
SECRET_KEY, ALLOWED_HOSTS, SITE_URL, DATABASE_URL or CELERY_BROKER_URL stops the start.
"""

from __future__ import annotations

import datetime
import os
import secrets
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()
# A local .env (never committed) is read if present; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))


def _required(name: str, dev_default: str) -> str:
    """Return the variable, or its development default when DEBUG is on."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is off.")


SECRET_KEY = _required("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production-0123456789")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The address links start with. Required with DEBUG off: messages the worker sends carry
# links and have no request to read a host from. Empty in development: links shown on a
# page follow the host and port serving it (`PORT=8080 make demo`), and the worker falls
# back to 127.0.0.1:8000 (clienteling.core.http.site_root).
SITE_URL = _required("SITE_URL", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "phonenumber_field",
    "django_celery_beat",
    "django_ratelimit",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "anymail",
    "health_check",
    "import_export",
    # Bottom layer: stores and staff, catalog, message transports.
    "clienteling.stores",
    "clienteling.catalog",
    "clienteling.channels",
    "clienteling.integrations",
    # Connectors (top floor: they call the domain apps' services).
    "clienteling.integrations.shopify",
    "clienteling.integrations.history",
    # Staff devices: Web Push, the service worker, offline writes' idempotency keys.
    "clienteling.push",
    # Domain apps.
    "customers",
    "appointments",
    # The project package itself (home view, templates, management commands).
    "clienteling",
    # Running a fleet: replica router, health and heartbeats, request ids, run_job.
    "clienteling.ops",
]

MIDDLEWARE = [
    # First: every log line of the request, and every task it enqueues, carries its id.
    "clienteling.ops.requestid.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "clienteling.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clienteling.security.IdleTimeoutMiddleware",
    "clienteling.security.SecondFactorMiddleware",
    "clienteling.stores.middleware.StoreTimezoneMiddleware",
    # A tablet handed to a client for the questionnaire reaches only the client's pages.
    "customers.handover.HandoverLockMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clienteling.urls"
WSGI_APPLICATION = "clienteling.wsgi.application"

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

# Database: PostgreSQL in production and tests, a SQLite file for the demo.
DATABASES = {
    "default": env.db_url_config(
        _required("DATABASE_URL", f"sqlite:///{VAR_DIR / 'clienteling.sqlite3'}")
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Name search is typo-tolerant through pg_trgm's word-similarity operator; its default
    # threshold (0.6) misses a swapped pair of letters ("Dubios" for "Dubois" scores 0.43).
    # JIT off: PostgreSQL compiles a query whose estimated cost passes jit_above_cost, and
    # for our short queries that compiling is the whole time (the performance page's
    # attribution query at 100,000 clients: 4.3 s of JIT for 0.1 s of execution).
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["options"] = (
        "-c pg_trgm.word_similarity_threshold=0.35 -c jit=off"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; a busy timeout rides
    # out the short write locks instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# A read replica (optional): reports (the performance page and its export) read from it
# through clienteling.ops.router; every write and every other read stays on default.
# Unset: everything runs on default.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
REPLICA_DATABASE: str | None = None
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **env.db_url_config(DATABASE_REPLICA_URL),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": DATABASES["default"].get("OPTIONS", {}),
        # Tests point the replica at the test database itself.
        "TEST": {"MIRROR": "default"},
    }
    REPLICA_DATABASE = "replica"
DATABASE_ROUTERS = ["clienteling.ops.router.ReplicaRouter"]

# A cache shared by every process (Redis in production): rate limits count across them.
CACHES = {"default": env.cache_url_config(_required("CACHE_URL", "locmemcache://"))}
RATELIMIT_USE_CACHE = "default"
SILENCED_SYSTEM_CHECKS: list[str] = []
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # django-ratelimit predates Django's own Redis backend and lists only django-redis;
    # Django's backend increments with Redis INCR, which is atomic: what it needs.
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.W001")
if DEBUG and CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # One process serves the demo: a per-process count is the real count there.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Counts failed sign-ins and refuses a locked-out account before checking its password.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading the session's user with their staff record and store.
    "clienteling.stores.auth.StaffModelBackend",
]
# Lockout by account, not by address: a whole store signs in from one address.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Attempts and lockouts are rows in the admin (Axes); no log line for every sign-in.
AXES_VERBOSE = False
# axes.W006 says that lockout by username alone lets an attacker try many accounts from
# one address: that is the trade-off asked for (a store shares one address); login
# attempts per address are still limited by the proxy in front.
SILENCED_SYSTEM_CHECKS.append("axes.W006")
# The client address Django sees (REMOTE_ADDR); the proxy in front sets it.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# A second factor (TOTP, django-otp) for superusers, staff users and store managers:
# on by default with production settings; the demo (DEBUG on) leaves it off.
TWO_FACTOR_REQUIRED = env.bool("TWO_FACTOR_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Clienteling")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Makeover photos and videos: outside MEDIA_ROOT, so no URL serves them without a check.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploads bigger than this are refused before Django reads them into memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)

PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="US")
PHONENUMBER_DB_FORMAT = "E164"

# Sessions are read from the shared cache and written through to the database: every
# page saves the session query, which matters most for the endpoints phones poll.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Security -------------------------------------------------------------------
# A session ends after this long without use (shared store devices sign themselves out),
# and after SESSION_COOKIE_AGE in any case (a long shift).
SESSION_IDLE_TIMEOUT_SECONDS = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=60 * 60)
SESSION_COOKIE_AGE = env.int("SESSION_MAX_AGE_SECONDS", default=12 * 60 * 60)
# Requests a device makes by itself (the fitting-room pager's poll) are not "use".
SESSION_IDLE_IGNORE_PATHS = ["/rooms/pages/"]
# Refused access (another store's client asked for by id) is recorded: at most
# SECURITY_REFUSALS_KEPT_PER_WINDOW rows per person per window (more are counted on the
# last row), and SECURITY_REFUSALS_ALERT_AFTER different ids in one window alert the
# person's store manager (clienteling.stores.refusals).
SECURITY_REFUSALS_WINDOW_SECONDS = env.int("SECURITY_REFUSALS_WINDOW_SECONDS", default=5 * 60)
SECURITY_REFUSALS_KEPT_PER_WINDOW = env.int("SECURITY_REFUSALS_KEPT_PER_WINDOW", default=50)
SECURITY_REFUSALS_ALERT_AFTER = env.int("SECURITY_REFUSALS_ALERT_AFTER", default=10)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy without 'unsafe-inline': no inline script or style anywhere
# (htmx's own indicator style is turned off in base.html; the API docs page, Swagger UI,
# is the one page allowed inline styles, see clienteling/api.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=()"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Integrations (POS, e-commerce, email platform) send "Authorization: Token <key>"
        # (hashed, scoped keys: clienteling.integrations); same-site pages use the session.
        "clienteling.integrations.auth.IntegrationTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        # A key may only do what its scopes say (views name their `required_scope`).
        "clienteling.integrations.auth.HasTokenScope",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "clienteling.core.rest.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "clienteling.core.rest.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only (no form or multipart, which no integration sends and the schema would
    # otherwise offer), refused whole when too deep or not text: clienteling.core.parsers.
    "DEFAULT_PARSER_CLASSES": ["clienteling.core.parsers.JSONParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clienteling API",
    "DESCRIPTION": (
        "Integration API for POS, e-commerce and email platforms: customers, orders, "
        "shipments, alterations and engagement events. Bulk endpoints are idempotent by "
        "external id and answer per item."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SalesChannelEnum": "customers.models.Order.SalesChannel",
        "ContactChannelEnum": "customers.models.consent_channel_choices",
        "OrderStatusEnum": "customers.models.Order.Status",
        "ShipmentStatusEnum": "customers.models.Order.ShipmentStatus",
        "AlterationStatusEnum": "customers.models.Order.AlterationStatus",
        "CustomerIdSourceEnum": "customers.models.CUSTOMER_ID_SOURCES",
        "EngagementSourceEnum": "customers.models.ENGAGEMENT_SOURCES",
    },
}
# How many items one bulk request may carry (orders, customers or events).
API_BULK_MAX_ITEMS = env.int("API_BULK_MAX_ITEMS", default=2000)
# Look-ups one till's key may make (GET /api/v1/customers/lookup/), DRF style ("600/min"):
# far more than a till rings up, far fewer than a scraper walking the client book needs.
POS_LOOKUP_RATE = env.str("POS_LOOKUP_RATE", default="600/min")
# Shopify: the Admin API version the backfill speaks, and where its API is (empty: each
# shop's own domain; tests point it at a fake on loopback).
SHOPIFY_API_VERSION = env.str("SHOPIFY_API_VERSION", default="2025-01")
SHOPIFY_API_BASE_URL = env.str("SHOPIFY_API_BASE_URL", default="")

# --- Reasons to contact -----------------------------------------------------------
# At most this many reasons per client reach an associate's Today in any 7 days
# (contacts already made that week count too): associates are frugal, clients not spammed.
REASONS_MAX_PER_CLIENT_PER_WEEK = env.int("REASONS_MAX_PER_CLIENT_PER_WEEK", default=1)
# A purchase at least this big (in the store's currency) earns a personal thank-you.
REASONS_THANK_YOU_MIN_TOTAL = env.int("REASONS_THANK_YOU_MIN_TOTAL", default=300)
# Birthdays and anniversaries show this many days ahead.
REASONS_OCCASION_LEAD_DAYS = env.int("REASONS_OCCASION_LEAD_DAYS", default=7)
# A consumable shows this many days before it is expected to run out.
REASONS_REPLENISH_LEAD_DAYS = env.int("REASONS_REPLENISH_LEAD_DAYS", default=7)

# --- Fitting rooms ----------------------------------------------------------------
# A page nobody acknowledged within this many seconds goes to every associate of the floor.
ROOMS_PAGE_ESCALATE_AFTER_SECONDS = env.int("ROOMS_PAGE_ESCALATE_AFTER_SECONDS", default=60)
# Requests (pages and check-ins) one room tablet may send, django-ratelimit style
# ("6/m": six a minute): a stuck button or a playful child cannot flood the floor.
ROOMS_TABLET_RATE = env.str("ROOMS_TABLET_RATE", default="6/m")

# --- Celery ---------------------------------------------------------------------
# The embedded default is kombu's filesystem transport: no server to run for the demo.
CELERY_BROKER_URL = _required("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("in", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Absolute paths: the control folder is otherwise relative to the worker's cwd.
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
    }
# Results are not used by the app: tasks write what they do to the database.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Workers log through LOGGING below (JSON with request ids), not Celery's own setup.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Every minute: hand due messages to workers (their task never ran, or they waited
    # for quiet hours to end) and take over the claims of workers that died.
    "messages-sweep": {
        "task": "customers.tasks.messages_sweep",
        "schedule": crontab(minute="*"),
    },
    # Every minute: send fitting-room pages nobody acknowledged in time to every associate
    # of the floor, in case their own countdown task never ran (a worker lost, a purge).
    "rooms-pages-escalate-sweep": {
        "task": "appointments.tasks.pages_escalate_due",
        "schedule": crontab(minute="*"),
    },
    # Every minute: send phone notifications whose task never ran (broker down), and drop
    # those too old to matter.
    "push-notices-sweep": {
        "task": "clienteling.push.tasks.notices_sweep",
        "schedule": crontab(minute="*"),
    },
    # Every night at 02:30: rebuild co-purchase neighbours and everyone's recommendations.
    "recommendations-refresh-nightly": {
        "task": "customers.tasks.recommendations_refresh_all",
        "schedule": crontab(hour=2, minute=30),
    },
    # Every hour at five past: recommendations of the clients whose data changed.
    "recommendations-refresh-recent": {
        "task": "customers.tasks.recommendations_refresh_recent_task",
        "schedule": crontab(minute=5),
    },
    # Every hour at a quarter past: open new reasons to contact, close those that ended.
    "reasons-refresh-hourly": {
        "task": "customers.tasks.reasons_refresh_all",
        "schedule": crontab(minute=15),
    },
    # Every night at 04:10: forget the ids of inbound texts older than
    # INBOUND_MESSAGE_RETENTION_DAYS (they only guard against a provider's retries).
    "inbound-messages-prune": {
        "task": "customers.tasks.inbound_messages_prune",
        "schedule": crontab(hour=4, minute=10),
    },
    # Every morning at 06:20: close offers past their last day, open those a lapse, a
    # birthday month or a tier reached triggers (customers.services.offers).
    "offers-sweep-daily": {
        "task": "customers.tasks.offers_sweep_task",
        "schedule": crontab(hour=6, minute=20),
    },
    # Every minute: beat's heartbeat; a worker records when it ran (manage.py health --beat).
    "ops-beat-heartbeat": {
        "task": "ops.beat_heartbeat",
        "schedule": crontab(minute="*"),
    },
    # Every night at 03:30, make thumbnails for any product image that lacks them
    # (a safety net for uploads whose after-commit task never ran).
    "catalog-thumbnails-sweep": {
        "task": "clienteling.catalog.tasks.product_thumbnails_sweep",
        "schedule": crontab(hour=3, minute=30),
    },
    # Every night at 04:40: each offer's and automation's effect against its holdout;
    # one below zero (the whole 95% interval) for its pause_after_days is paused, with why.
    "holdout-verdicts-nightly": {
        "task": "customers.tasks.holdout_verdicts_refresh_task",
        "schedule": crontab(hour=4, minute=40),
    },
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Appointments -------------------------------------------------------------------
# Free slots start every this many minutes within a stylist's working hours.
APPOINTMENT_SLOT_MINUTES = env.int("APPOINTMENT_SLOT_MINUTES", default=15)
# Reminders go this many hours before an appointment (each once, through the outbox).
APPOINTMENT_REMINDER_HOURS = [
    int(hours) for hours in env.list("APPOINTMENT_REMINDER_HOURS", default=["24", "2"])
]
# The thank-you goes this long after the appointment ends (quiet hours still apply).
APPOINTMENT_THANK_YOU_AFTER_HOURS = env.int("APPOINTMENT_THANK_YOU_AFTER_HOURS", default=3)
# The address of a virtual styling room, "{token}" replaced by the appointment's own
# (e.g. "https://meet.example.com/styling-{token}"); empty: the stylist pastes a link.
VIDEO_ROOM_URL_TEMPLATE = env.str("VIDEO_ROOM_URL_TEMPLATE", default="")

# Bookings one address may post on a store's public booking page, django-ratelimit style
# ("10/h": ten an hour), and changes (move, cancel) one client's appointment link may post.
BOOKING_RATE = env.str("BOOKING_RATE", default="10/h")
BOOKING_MANAGE_RATE = env.str("BOOKING_MANAGE_RATE", default="10/h")

# --- Makeovers ----------------------------------------------------------------------
# Photos bigger than this many bytes, or with more pixels than this (a decompression
# bomb), are refused with a sentence before anything is decoded or saved.
MAKEOVER_MAX_UPLOAD_BYTES = env.int("MAKEOVER_MAX_UPLOAD_BYTES", default=15 * 1024 * 1024)
MAKEOVER_MAX_PIXELS = env.int("MAKEOVER_MAX_PIXELS", default=40_000_000)
# Short videos (MP4, QuickTime, WebM, recognised by their first bytes) up to this size.
MAKEOVER_MAX_VIDEO_BYTES = env.int("MAKEOVER_MAX_VIDEO_BYTES", default=50 * 1024 * 1024)
# The client's link to their makeover page works this many days (unless revoked).
MAKEOVER_LINK_DAYS = env.int("MAKEOVER_LINK_DAYS", default=30)
# "Ask my stylist for this" requests one link may send (django-ratelimit rate).
MAKEOVER_ASK_RATE = env.str("MAKEOVER_ASK_RATE", default="10/h")

# --- Channels: email, SMS and their transports --------------------------------------
# The channels messages go out by, in the order they are tried and shown: a code and the
# dotted path of its spec (clienteling/channels/). A new channel is one spec and one line
# here (as healthchecks keeps TRANSPORTS); nothing else names a channel.
CHANNELS = {
    "email": "clienteling.channels.email.SPEC",
    "sms": "clienteling.channels.sms.SPEC",
    "whatsapp": "clienteling.channels.whatsapp.SPEC",
}
# EMAIL_URL picks Django's email backend: "consolemail://", "filemail:///relative/path"
# or "filemail:////absolute/path" (django-environ drops one slash),
# "smtp+tls://user:pass@host:587". A provider can be plugged through django-anymail.
globals().update(
    {
        key: value
        for key, value in env.email_url("EMAIL_URL", default="consolemail://").items()
        if value not in (None, "")
    }
)
# EMAIL_PROVIDER sends through an ESP with django-anymail instead of EMAIL_URL's backend:
# its anymail name ("postmark", "mailgun", "amazon_ses", "brevo"...) or a backend's dotted
# path. Every ANYMAIL_<NAME> variable becomes ANYMAIL["<NAME>"]: the ESP's key
# (ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_MAILGUN_API_KEY...) and ANYMAIL_WEBHOOK_SECRET,
# the "user:password" the ESP's tracking and inbound webhooks must send (basic auth).
EMAIL_PROVIDER = env.str("EMAIL_PROVIDER", default="")
if EMAIL_PROVIDER:
    EMAIL_BACKEND = (
        EMAIL_PROVIDER
        if "." in EMAIL_PROVIDER
        else f"anymail.backends.{EMAIL_PROVIDER}.EmailBackend"
    )
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): env.str(name)
    for name in sorted({key.removesuffix("_FILE") for key in os.environ})
    if name.startswith("ANYMAIL_")
}
if not ANYMAIL.get("WEBHOOK_SECRET"):
    if EMAIL_PROVIDER and not DEBUG:
        raise ImproperlyConfigured("ANYMAIL_WEBHOOK_SECRET must be set with EMAIL_PROVIDER.")
    # No provider calls the webhooks (/hooks/anymail/): closed to everyone, with a secret
    # nobody knows (anymail would otherwise accept any post), or a known one in development.
    ANYMAIL["WEBHOOK_SECRET"] = (
        "dev:dev-only-webhook-secret" if DEBUG else secrets.token_urlsafe(32)
    )
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Clienteling <hello@example.com>")
# Reply-To of every email: the ESP's inbound address, so clients' answers come back
# through its inbound webhook into their conversation. Empty: replies go to the sender.
EMAIL_REPLY_TO = env.str("EMAIL_REPLY_TO", default="")
# SMS_TRANSPORT is a dotted path to a class in clienteling.channels (console or file
# for development and tests; a provider transport in production).
SMS_TRANSPORT = env.str("SMS_TRANSPORT", default="clienteling.channels.sms.ConsoleSmsTransport")
SMS_FILE_PATH = Path(env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms")))
SMS_FROM = env.str("SMS_FROM", default="+15550100000")

# --- Outreach -------------------------------------------------------------------------
# No text message reaches a client outside this local-time window (stores may narrow it).
SMS_WINDOW_START = datetime.time.fromisoformat(env.str("SMS_WINDOW_START", default="08:00"))
SMS_WINDOW_END = datetime.time.fromisoformat(env.str("SMS_WINDOW_END", default="21:00"))
# Attempts before a message that keeps failing on transient errors is marked failed.
MESSAGE_MAX_ATTEMPTS = env.int("MESSAGE_MAX_ATTEMPTS", default=5)
# A worker's claim on a message older than this is taken over by the sweep (the worker
# died); before it goes again it is reconciled with the provider (README, "Once, provider
# by provider"). Longer than a send can take, or a live send would be taken over.
MESSAGE_CLAIM_LEASE_SECONDS = env.int("MESSAGE_CLAIM_LEASE_SECONDS", default=300)
# Generic HTTP SMS provider (clienteling.channels.http.HttpSmsTransport).
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN", default="")
SMS_HTTP_TIMEOUT_SECONDS = env.float("SMS_HTTP_TIMEOUT_SECONDS", default=10.0)
# Shared secret the SMS provider signs its webhooks with (HMAC-SHA256 of the body).
SMS_WEBHOOK_SECRET = env.str(
    "SMS_WEBHOOK_SECRET", default="dev-only-webhook-secret" if DEBUG else ""
)
# The same for the email provider's inbound parse (clients answering our emails).
EMAIL_WEBHOOK_SECRET = env.str(
    "EMAIL_WEBHOOK_SECRET", default="dev-only-webhook-secret" if DEBUG else ""
)
# Twilio (SMS_TRANSPORT=clienteling.channels.twilio.TwilioSmsTransport). Each store sends
# from its Messaging Service or its own number, else TWILIO_DEFAULT_FROM. The auth token
# also verifies Twilio's webhooks (/hooks/twilio/sms/ and /hooks/twilio/status/).
# TWILIO_API_BASE_URL only points the client at a fake in tests; leave it empty.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_DEFAULT_FROM = env.str("TWILIO_DEFAULT_FROM", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
# WhatsApp (WHATSAPP_TRANSPORT=clienteling.channels.whatsapp.TwilioWhatsAppTransport; the
# console prints instead): the same Twilio account; each store sends from its WhatsApp
# sender number, else TWILIO_WHATSAPP_DEFAULT_FROM (E.164, without "whatsapp:").
WHATSAPP_TRANSPORT = env.str(
    "WHATSAPP_TRANSPORT", default="clienteling.channels.whatsapp.ConsoleWhatsAppTransport"
)
TWILIO_WHATSAPP_DEFAULT_FROM = env.str("TWILIO_WHATSAPP_DEFAULT_FROM", default="")
# Days the ids of handled inbound texts (Twilio's MessageSid) are kept, so a webhook the
# provider retries is answered once; pruned every night.
INBOUND_MESSAGE_RETENTION_DAYS = env.int("INBOUND_MESSAGE_RETENTION_DAYS", default=30)
# Undelivered texts whose error says the number itself is bad (30003, 30005, 30006,
# 21211...) before the number is treated as bounced.
SMS_BAD_NUMBER_FAILURES = env.int("SMS_BAD_NUMBER_FAILURES", default=2)
# Salt of the hashed addresses that opted out (STOP, spam complaints). Empty: derived
# from SECRET_KEY; set it in production, or rotating SECRET_KEY forgets every opt-out.
SUPPRESSION_SALT = env.str("SUPPRESSION_SALT", default="")
# The performance page credits an associate with a client's order placed within this
# many days after their last contact with the client (a logged contact or a message).
ATTRIBUTION_WINDOW_DAYS = env.int("ATTRIBUTION_WINDOW_DAYS", default=14)
# Offers' and automations' holdouts: each eligible client's purchases and revenue are
# counted for this many days after they became eligible (offer group and holdout alike).
HOLDOUT_WINDOW_DAYS = env.int("HOLDOUT_WINDOW_DAYS", default=30)

# --- Web Push to staff phones (fitting-room pages, replies, online bookings) ---------------
# A VAPID key pair (`manage.py generate_vapid_keys`); both empty: push is off.
VAPID_PUBLIC_KEY = env.str("VAPID_PUBLIC_KEY", default="")
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
# Who the push services can reach about our pushes (a mailto: or https: address).
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="mailto:it@example.com")
PUSH_TIMEOUT_SECONDS = env.float("PUSH_TIMEOUT_SECONDS", default=10.0)

# LOG_FORMAT: "json" (one JSON object a line, for a log collector; the default with DEBUG
# off) or "plain". Every line carries the request id (clienteling.ops.requestid), in web
# requests and in the Celery tasks they enqueued.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "clienteling.ops.requestid.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT if LOG_FORMAT in ("json", "plain") else "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
