"""Siaga settings: the environment is read once, here, and nowhere else."""

from __future__ import annotations

import json
import math
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from exc


def _env_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as ``120/min`` (requests per sec, min, hour or day)."""
    raw = os.environ.get(name, default).strip()
    count, _, period = raw.partition("/")
    if not (count.isdigit() and int(count) > 0 and period[:1] in {"s", "m", "h", "d"}):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate: use requests/period, e.g. 120/min or 1000/hour")
    return raw


# Production is the default: debug only when asked for (DJANGO_DEBUG=1), and outside debug no fallback secret.
DEBUG = _env_bool("DJANGO_DEBUG", False)
# The secret key: DJANGO_SECRET_KEY, else the file DJANGO_SECRET_KEY_FILE (scripts/setup.sh writes a random one,
# readable by its owner only, at .secret_key when neither is given). Only debug may run on the public dev key.
SECRET_KEY_FILE = Path(os.environ.get("DJANGO_SECRET_KEY_FILE", BASE_DIR / ".secret_key"))


def _secret_key() -> str:
    key = os.environ.get("DJANGO_SECRET_KEY", "").strip()
    if not key and SECRET_KEY_FILE.is_file():
        key = SECRET_KEY_FILE.read_text(encoding="utf-8").strip()
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("the secret key is shorter than 32 characters: make a random one")
        return key
    if DEBUG:
        return "siaga-insecure-development-key-for-debug-only"
    raise ImproperlyConfigured(
        f"no secret key: set DJANGO_SECRET_KEY, or DJANGO_SECRET_KEY_FILE, or run scripts/setup.sh "
        f"(it writes {SECRET_KEY_FILE}); or set DJANGO_DEBUG=1 for a local debug run"
    )


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgis://postgres@127.0.0.1:5432/siaga"),
        engine="django.contrib.gis.db.backends.postgis",
        conn_max_age=60,
    )
}
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"

# Real data (boundaries, roads, population) is read from here and never copied into the repo.
# The project's own data (data/SOURCES.md): the demo and the tests need nothing outside the repository.
SIAGA_DATA_DIR = Path(os.environ.get("SIAGA_DATA_DIR", BASE_DIR / "data")).resolve()

# Routing: the off-network leg is driven at this speed; farther than SIAGA_MAX_ACCESS_M from any
# road of the region's network a point counts as outside the network.
SIAGA_ACCESS_SPEED_KPH = _env_float("SIAGA_ACCESS_SPEED_KPH", 15.0)
SIAGA_MAX_ACCESS_M = _env_float("SIAGA_MAX_ACCESS_M", 3000.0)
SIAGA_MAX_POINTS = int(_env_float("SIAGA_MAX_POINTS", 500))
SIAGA_ISOCHRONE_BUFFER_M = _env_float("SIAGA_ISOCHRONE_BUFFER_M", 100.0)
# Vehicle profiles (gis_core.routing.profiles): a fire engine takes no way tagged narrower than this; where
# a vehicle cannot drive the caller's street, the rest is walked (or the hose laid) at this speed (3.6 km/h:
# 60 m a minute); SIAGA_AGAINST_ONEWAY_FACTORS (JSON {profile: factor >= 1}, none by default) lets a
# profile drive against one-ways at that many times the time, where the centre allows it.
SIAGA_FIRE_ENGINE_MIN_WIDTH_M = _env_float("SIAGA_FIRE_ENGINE_MIN_WIDTH_M", 3.0)
SIAGA_ON_FOOT_SPEED_KPH = _env_float("SIAGA_ON_FOOT_SPEED_KPH", 3.6)


def _against_oneway_factors() -> dict[str, float]:
    raw = os.environ.get("SIAGA_AGAINST_ONEWAY_FACTORS", "{}")
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"SIAGA_AGAINST_ONEWAY_FACTORS={raw!r} is not JSON") from exc
    known = {"car", "fire_engine", "motorbike"}  # gis_core.routing.profiles.PROFILE_NAMES
    if not isinstance(value, dict) or not all(
        k in known and isinstance(v, int | float) and not isinstance(v, bool) and 1 <= v < float("inf")
        for k, v in value.items()
    ):
        raise ImproperlyConfigured(
            f"SIAGA_AGAINST_ONEWAY_FACTORS={raw!r} must be a JSON object {{profile: factor >= 1}}, profiles "
            f"{', '.join(sorted(known))}"
        )
    return {k: float(v) for k, v in value.items()}


SIAGA_AGAINST_ONEWAY_FACTORS = _against_oneway_factors()
# Live road closures: a street line (drawn or picked) closes the edges with at least half their length within
# this many metres of it; an area or line closure has at most SIAGA_CLOSURE_MAX_VERTICES vertices and an area
# at most SIAGA_CLOSURE_MAX_AREA_KM2 square kilometres (more is a 400).
SIAGA_CLOSURE_LINE_TOLERANCE_M = _env_float("SIAGA_CLOSURE_LINE_TOLERANCE_M", 15.0)
SIAGA_CLOSURE_MAX_VERTICES = int(_env_float("SIAGA_CLOSURE_MAX_VERTICES", 5000))
SIAGA_CLOSURE_MAX_AREA_KM2 = _env_float("SIAGA_CLOSURE_MAX_AREA_KM2", 500.0)
# Coverage: one run's grid has at most this many cells (region area / cell_m^2), and a siting run computes at most
# this many candidate-site x demand-point travel times; more is a 400 saying which input to change.
SIAGA_COVERAGE_MAX_CELLS = int(_env_float("SIAGA_COVERAGE_MAX_CELLS", 200_000))
SIAGA_SITING_MAX_PAIRS = int(_env_float("SIAGA_SITING_MAX_PAIRS", 20_000_000))
# Optional JSON object {highway class: km/h} overriding gis_core.speeds.DEFAULT_SPEEDS_KPH.
SIAGA_SPEEDS_KPH: dict[str, float] = json.loads(os.environ.get("SIAGA_SPEEDS_KPH", "{}"))

INSTALLED_APPS = [
    # First, so that `manage.py runserver` is Daphne's: HTTP and the console's WebSocket in one process.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "channels",
    # The job queue in PostgreSQL (procrastinate's tables come with its migrations) and the job records a
    # person follows (jobs/, the lowest floor: it imports no app). Each app's tasks.py is found at start-up.
    "procrastinate.contrib.django",
    "jobs",
    "gis_core",
    "gazetteer",
    "fleet",
    "incidents",
    "coverage",
    "access",
    # Console: the dispatcher's and planner's web map; django-leaflet ships Leaflet's static files.
    "leaflet",
    "console",
    # Health probes and Prometheus metrics (ops/): the top floor, beside the console.
    "ops",
    # Reports a centre owes (period report, SPM table, exports): stands on the console's page shell.
    "reports",
    # The crew page: the phone web app a unit's crew pairs with its device (crew/).
    "crew",
    # Counts failed log-ins (login page, admin, HTTP Basic) and locks a user name out for a while.
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (the console's scripts, Leaflet, the admin's) straight from the apps, with or without debug.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "gis_core.middleware.CredentialCookiesMiddleware",  # a broken session/CSRF cookie is a 401 on the API
    "django.contrib.sessions.middleware.SessionMiddleware",
    "console.middleware.ConsoleLocaleMiddleware",  # Bahasa Indonesia unless the user picks English
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into console.lockout's answer
]

ROOT_URLCONF = "config.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# Live console: GPS fixes, status changes, reports and assignments pushed over WebSocket through
# the Redis channel layer (incidents.live publishes after commit, incidents.consumers relays).
# The port of the WebSocket server when it is not the page's own (scripts/serve.sh: gunicorn serves HTTP,
# Daphne the WebSocket on SIAGA_WS_PORT); unset behind a proxy that routes /ws/ on the same address.
_ws_port = os.environ.get("SIAGA_WS_PORT", "").strip()
if _ws_port and not (_ws_port.isdigit() and 0 < int(_ws_port) < 65536):
    raise ImproperlyConfigured(f"SIAGA_WS_PORT must be a TCP port number, got {_ws_port!r}")
SIAGA_WS_PORT = int(_ws_port) if _ws_port else None
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# OwnTracks phones in MQTT mode publish to this broker; `manage.py mqtt_ingest` records them.
SIAGA_MQTT_URL = os.environ.get("SIAGA_MQTT_URL", "mqtt://127.0.0.1:1883")
# The bridges' shared subscription ($share/<group>/owntracks/+/+): every bridge of one centre's server in one
# group, so the broker hands each message to one of them (two servers on one broker: a group each).
SIAGA_MQTT_SHARE_GROUP = os.environ.get("SIAGA_MQTT_SHARE_GROUP", "siaga")
# A publish waits at most this long for Redis; when it is down the fix or dispatch goes on unpublished.
SIAGA_LIVE_PUBLISH_TIMEOUT_S = _env_float("SIAGA_LIVE_PUBLISH_TIMEOUT_S", 2.0)
# The cache (DRF's rate-limit counts, access.throttles) is Redis, shared by every worker process. A short
# timeout: when Redis is away, a request goes on unthrottled instead of waiting.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("SIAGA_CACHE_PREFIX", "siaga"),
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # socket_timeout stays above the layer's 5 s blocking receive, or idle consumers would time out.
            "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 2, "socket_timeout": 15}],
            "prefix": os.environ.get("SIAGA_CHANNEL_PREFIX", "siaga"),
            "expiry": 30,  # a console that cannot keep up for 30 s reloads its state anyway
            "capacity": 500,
        },
    }
}

LANGUAGE_CODE = "id"
# Console: Bahasa Indonesia by default, English on request (locale/ holds the .po and the compiled .mo).
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:login"
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# collectstatic's target; scripts/serve-production.sh collects into its run folder, which nginx serves.
STATIC_ROOT = Path(os.environ.get("SIAGA_STATIC_ROOT", BASE_DIR / "staticfiles"))
# WhiteNoise serves the apps' static folders directly (a few hundred kB), so no collectstatic step can go stale.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Behind TLS (SIAGA_HTTPS=1; a proxy in front sets X-Forwarded-Proto): cookies only over HTTPS, and HSTS.
SIAGA_HTTPS = _env_bool("SIAGA_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SIAGA_HTTPS
SECURE_SSL_REDIRECT = SIAGA_HTTPS
SECURE_HSTS_SECONDS = 31536000 if SIAGA_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SIAGA_HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SIAGA_HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Failed log-ins: after SIAGA_LOGIN_FAILURE_LIMIT failures for one user name from one client address, that
# pair is locked out for SIAGA_LOGIN_COOLOFF_S (a dispatcher elsewhere in the centre can still log in).
# Every failure and lockout is kept in axes' tables (admin: Axes). A success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "access.backends.RegionAdminBackend",  # a region admin's /admin/ permissions, from the membership role
]
# The client's address behind the reverse proxy: the trusted proxies in front that append to X-Forwarded-For
# (scripts/serve-production.sh sets 1 for its nginx). 0: the connecting address is the client's and the header
# is ignored, so a client cannot pick its own address. One reader for the audit log, the rate limits and the
# login lockout: gis_core.client_address.
SIAGA_NUM_PROXIES = int(_env_float("SIAGA_NUM_PROXIES", 0))
AXES_CLIENT_IP_CALLABLE = "gis_core.client_address.client_address"
AXES_FAILURE_LIMIT = int(_env_float("SIAGA_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(seconds=_env_float("SIAGA_LOGIN_COOLOFF_S", 900.0))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "console.lockout.lockout_response"
AXES_VERBOSE = False
# Django's database sessions, never querying a key Django could not have issued (a NUL was a 500).
SESSION_ENGINE = "gis_core.sessions"

# Which regions (centres) a user may see. gis_core stands below the access app and imports none, so its
# views and fields ask through this path; everything above calls access.selectors directly.
SIAGA_REGIONS_FOR_USER = "access.selectors.regions_for_user"
SIAGA_REGIONS_ADMINISTERED_BY = "access.selectors.regions_administered_by"  # the admin's region scoping

REST_FRAMEWORK = {
    # Deny by default: a view that names no permission needs a logged-in user with a console role. A view
    # open to others names AllowAny in its own code, saying who may call it and how they prove it.
    "DEFAULT_PERMISSION_CLASSES": ["access.permissions.HasRole"],
    # DRF's defaults, with HTTP Basic refusing impossible credentials (NUL, 10,000 chars) with a 401.
    # Machine clients: Authorization: Bearer <API token> (access.authentication), their scopes in each view.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "gis_core.api.authentication.BasicAuthentication",
        "access.authentication.ApiTokenAuthentication",
    ],
    # Expensive endpoints name a throttle_scope: counted per token or user, and per address (access.throttles).
    "DEFAULT_THROTTLE_CLASSES": ["access.throttles.CallerRateThrottle", "access.throttles.AddressRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "routing": _env_rate("SIAGA_RATE_ROUTING", "120/min"),  # routing eta/route/isochrone/matrix, units/eta
        "recommendations": _env_rate("SIAGA_RATE_RECOMMENDATIONS", "120/min"),
        "coverage": _env_rate("SIAGA_RATE_COVERAGE", "20/min"),  # coverage, gaps, live, what-if runs, run maps
        "siting": _env_rate("SIAGA_RATE_SITING", "6/min"),
        "crew_pair": _env_rate("SIAGA_RATE_CREW_PAIR", "30/min"),  # crew pages redeeming a pairing link
        "address": _env_rate("SIAGA_RATE_ADDRESS", "600/min"),  # one client address over all of the above
    },
    # Proxies in front that append to X-Forwarded-For (SIAGA_NUM_PROXIES, above); the throttles read the address
    # through gis_core.client_address like every other reader, this keeps DRF's own default in step.
    "NUM_PROXIES": SIAGA_NUM_PROXIES,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "gis_core.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    # DRF's parsers, the JSON one refusing NUL characters (PostgreSQL text cannot hold them): a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": [
        "gis_core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Siaga API",
    "DESCRIPTION": (
        "Dispatch and resource tracking for Indonesian 112 centres: boundaries, routing and ETAs. "
        "Times are ISO 8601 with their UTC offset, written in the server's zone (TIME_ZONE, Asia/Jakarta, +07:00) "
        "for every region alike: read the offset, never assume one. A region's own zone (its time_zone: WIB, WITA "
        "or WIT) is what its console shows and what KPI days and dates without an offset are counted in."
    ),
    "VERSION": "0.1.0",
    # The schema and its docs page describe the API's shape and hold no data: open to anyone, so a
    # centre's integrators can read them before they have an account.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SIAGA_LOG_LEVEL", "INFO")},
    # procrastinate tells every process at start-up which tasks it registered: worth nothing in a command's output.
    "loggers": {"procrastinate": {"level": os.environ.get("SIAGA_JOBS_LOG_LEVEL", "WARNING")}},
}

# Debian bookworm ships GDAL 3.6; the warning asks for 3.9+, which no Debian 12 package provides.
# Spatial references here come from our own importers and settings, not from untrusted users.
# HSTS preload (security.W021) commits the whole domain to HTTPS in browsers' built-in lists: the centre's
# domain owner decides that, not the application.
SILENCED_SYSTEM_CHECKS = ["gis.W001", "security.W021"]

# Fleet: GPS fix validation. A fix is stored whatever it says; these decide its flags.
SIAGA_FIX_MAX_FUTURE_S = _env_float("SIAGA_FIX_MAX_FUTURE_S", 300.0)  # device clock ahead of ours
SIAGA_FIX_MAX_PAST_S = _env_float("SIAGA_FIX_MAX_PAST_S", 7 * 86400.0)  # older than this: stale
SIAGA_FIX_MAX_ACCURACY_M = _env_float("SIAGA_FIX_MAX_ACCURACY_M", 250.0)
SIAGA_FIX_MAX_SPEED_KPH = _env_float("SIAGA_FIX_MAX_SPEED_KPH", 200.0)  # implied speed between fixes


def _env_retention_days() -> tuple[float, float]:
    """(fixes, raw messages) retention in days. The raw request is the evidence of what a crew or a citizen sent,
    so it is kept at least as long as the fixes made from it: by default exactly as long (docs/SCALE.md: a year of
    raw requests would add 2.6 TB at Jakarta's rate)."""
    fix_days = _env_float("SIAGA_FIX_RETENTION_DAYS", 180.0)
    raw_days = _env_float("SIAGA_RAW_RETENTION_DAYS", fix_days)
    for name, days in (("SIAGA_FIX_RETENTION_DAYS", fix_days), ("SIAGA_RAW_RETENTION_DAYS", raw_days)):
        if not (days > 0 and math.isfinite(days)):
            raise ImproperlyConfigured(f"{name}={days!r} must be a positive number of days")
    if raw_days < fix_days:
        raise ImproperlyConfigured(
            f"SIAGA_RAW_RETENTION_DAYS={raw_days:g} is shorter than SIAGA_FIX_RETENTION_DAYS={fix_days:g}: a fix's raw "
            "request is its evidence and is kept at least as long as the fix"
        )
    return fix_days, raw_days


# Fixes and raw device/webhook requests go by whole partitions past these ages (fleet.services.retention).
SIAGA_FIX_RETENTION_DAYS, SIAGA_RAW_RETENTION_DAYS = _env_retention_days()
# When the job workers prune history older than that (cron, in UTC; the retention job, fleet/tasks.py).
SIAGA_RETENTION_CRON = os.environ.get("SIAGA_RETENTION_CRON", "17 19 * * *")  # 02:17 WIB
# History tables (fixes, raw messages) are partitioned by arrival time (fleet.services.partitions): one partition
# per "month" or "week" (UTC), created this many periods ahead by `manage.py history_partitions` or history_maintain.
SIAGA_HISTORY_PARTITION_PERIOD = os.environ.get("SIAGA_HISTORY_PARTITION_PERIOD", "month")
SIAGA_HISTORY_PARTITIONS_AHEAD = int(_env_float("SIAGA_HISTORY_PARTITIONS_AHEAD", 3))
# A unit whose newest valid fix is older than this is ranked from its home station.
SIAGA_POSITION_MAX_AGE_S = _env_float("SIAGA_POSITION_MAX_AGE_S", 600.0)
# The longest useful ETA of a recommendation, seconds: its one search per vehicle profile stops there (a unit
# farther away is listed after the reached ones, with reason_code beyond_max_eta and its straight-line distance);
# a need with fewer units reached within it than it asks for is searched again, the bound doubled (x2, x4, x8, then
# none). inf: no bound.
SIAGA_RECOMMEND_MAX_ETA_S = _env_float("SIAGA_RECOMMEND_MAX_ETA_S", 1800.0)
if not SIAGA_RECOMMEND_MAX_ETA_S >= 60:  # NaN fails too
    raise ImproperlyConfigured(
        f"SIAGA_RECOMMEND_MAX_ETA_S must be a number of seconds >= 60 (or inf), got {SIAGA_RECOMMEND_MAX_ETA_S!r}"
    )
# A crew pairing link (fleet.services.crew_sessions) works once, within this many seconds.
SIAGA_CREW_PAIRING_TTL_S = _env_float("SIAGA_CREW_PAIRING_TTL_S", 600.0)

# Ingest spool (fleet.services.spool): an OwnTracks HTTP message that cannot be stored while PostgreSQL is away
# is appended to a Redis stream, answered 200 (OwnTracks forgets whatever it was answered), and replayed once the
# database is back (manage.py ingest_spool_replay; the MQTT bridge replays it too, every SIAGA_SPOOL_REPLAY_EVERY_S).
# Only a device this process authenticated within SIAGA_SPOOL_CREDENTIAL_TTL_S can be spooled: its secret is
# checked against the hash remembered then (the secret itself is never spooled).
SIAGA_SPOOL_STREAM = os.environ.get("SIAGA_SPOOL_STREAM", "siaga:ingest-spool")
SIAGA_SPOOL_REPLAY_EVERY_S = _env_float("SIAGA_SPOOL_REPLAY_EVERY_S", 30.0)
SIAGA_SPOOL_CREDENTIAL_TTL_S = _env_float("SIAGA_SPOOL_CREDENTIAL_TTL_S", 86400.0)

# Prometheus scrapes /metrics with Authorization: Bearer <this> (ops.permissions.HoldsMetricsToken); unset, no
# one may scrape. Behind the production proxy the connecting address is always nginx's, so it is not what
# decides: the token is.
SIAGA_METRICS_TOKEN = os.environ.get("SIAGA_METRICS_TOKEN", "").strip()

# WhatsApp Cloud API webhook.
WHATSAPP_APP_SECRET = os.environ.get("WHATSAPP_APP_SECRET", "")
WHATSAPP_VERIFY_TOKEN = os.environ.get("WHATSAPP_VERIFY_TOKEN", "")
# Which region a delivery belongs to is not a setting: the receiving number's phone_number_id is looked up in
# Region.whatsapp_phone_number_id (admin), so one server takes WhatsApp for several centres.
# A shared location attaches to the sender's open report from this many seconds back.
SIAGA_WHATSAPP_ATTACH_WINDOW_S = _env_float("SIAGA_WHATSAPP_ATTACH_WINDOW_S", 900.0)

# Outbound WhatsApp (WhatsApp Cloud API send endpoint: POST {base}/{version}/{phone-number-id}/messages with a
# Bearer token; the phone number id is the region's). No token outside debug unless one is given: an outbound
# message then fails its attempts with the reason, and the console shows it as not sent.
WHATSAPP_API_BASE_URL = os.environ.get("WHATSAPP_API_BASE_URL", "https://graph.facebook.com").rstrip("/")
WHATSAPP_API_VERSION = os.environ.get("WHATSAPP_API_VERSION", "v21.0")
WHATSAPP_ACCESS_TOKEN = os.environ.get("WHATSAPP_ACCESS_TOKEN", "debug-whatsapp-token" if DEBUG else "")
# Approved message templates (name, language): the dispatch notification and the hand-off, each with three body
# parameters (type, address, landmark) and a fourth (the crew page link or the report's reference) and
# quick-reply buttons ("Berangkat", "Tiba di lokasi", "Selesai"; "Diterima").
WHATSAPP_DISPATCH_TEMPLATE = os.environ.get("WHATSAPP_DISPATCH_TEMPLATE", "siaga_dispatch")
WHATSAPP_HANDOFF_TEMPLATE = os.environ.get("WHATSAPP_HANDOFF_TEMPLATE", "siaga_handoff")
WHATSAPP_TEMPLATE_LANGUAGE = os.environ.get("WHATSAPP_TEMPLATE_LANGUAGE", "id")
# The crew page's address in the dispatch message: this URL when set; else SIAGA_PUBLIC_BASE_URL + the path of
# the URL named crew:home when the crew app is installed; else no link.
SIAGA_CREW_PAGE_URL = os.environ.get("SIAGA_CREW_PAGE_URL", "")
SIAGA_PUBLIC_BASE_URL = os.environ.get("SIAGA_PUBLIC_BASE_URL", "").rstrip("/")
# The outbound queue: attempts per message, the first retry's delay (doubling, or the receiver's Retry-After),
# one request's timeout, and how long the worker sleeps when nothing is due.
SIAGA_OUTBOUND_MAX_ATTEMPTS = int(_env_float("SIAGA_OUTBOUND_MAX_ATTEMPTS", 6))
SIAGA_OUTBOUND_BACKOFF_S = _env_float("SIAGA_OUTBOUND_BACKOFF_S", 5.0)
SIAGA_OUTBOUND_TIMEOUT_S = _env_float("SIAGA_OUTBOUND_TIMEOUT_S", 10.0)
SIAGA_OUTBOUND_IDLE_S = _env_float("SIAGA_OUTBOUND_IDLE_S", 2.0)
# Each queued message is a job of its own; this sweep (cron) sends what a job missed and escalates hand-offs.
SIAGA_OUTBOUND_SWEEP_CRON = os.environ.get("SIAGA_OUTBOUND_SWEEP_CRON", "* * * * *")


def _env_stalled_jobs() -> tuple[float, int]:
    """A job worker silent for ``SIAGA_JOB_STALLED_AFTER_S`` is lost (procrastinate's workers send a heartbeat
    every 10 s: at least 30 s, three missed beats); a job safe to retry gets ``SIAGA_JOB_MAX_ATTEMPTS`` runs."""
    after_s = _env_float("SIAGA_JOB_STALLED_AFTER_S", 60.0)
    attempts = _env_float("SIAGA_JOB_MAX_ATTEMPTS", 3)
    if not (after_s >= 30.0 and math.isfinite(after_s)):
        raise ImproperlyConfigured(
            f"SIAGA_JOB_STALLED_AFTER_S={after_s:g} is under 30 s: workers beat every 10 s, a busy one would look lost"
        )
    if not (attempts >= 1 and attempts == int(attempts)):
        raise ImproperlyConfigured(f"SIAGA_JOB_MAX_ATTEMPTS={attempts:g} must be a whole number of runs, at least 1")
    return after_s, int(attempts)


# Jobs of lost workers (jobs.services.jobs_stalled_recover): checked by this cron, queued again or failed.
SIAGA_JOB_STALLED_AFTER_S, SIAGA_JOB_MAX_ATTEMPTS = _env_stalled_jobs()
SIAGA_JOB_STALLED_CRON = os.environ.get("SIAGA_JOB_STALLED_CRON", "* * * * *")
# A hand-off not acknowledged this long after it was sent (or created, while undelivered) is escalated.
SIAGA_HANDOFF_ACK_TIMEOUT_S = _env_float("SIAGA_HANDOFF_ACK_TIMEOUT_S", 300.0)

# Caller reputation: flag new reports from a number after this many pranks within this many days.
SIAGA_PRANK_FLAG_COUNT = int(_env_float("SIAGA_PRANK_FLAG_COUNT", 3))
SIAGA_PRANK_WINDOW_DAYS = _env_float("SIAGA_PRANK_WINDOW_DAYS", 30.0)
