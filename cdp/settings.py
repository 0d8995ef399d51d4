"""Settings, all from the environment; `.env.example` lists every variable."""

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from kombu import Queue

from cdp.env import env_bool, env_days, env_int, env_list, env_networks, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state of the development start: embedded servers' data, the generated admin password.
CDP_VAR_DIR = Path(env_str("CDP_VAR_DIR", "") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-secret-key" if DEBUG else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"] if DEBUG else ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Public base URL of this server, used in the tracker snippet shown in the admin.
CDP_PUBLIC_URL = env_str("CDP_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "apps.core.admin_site.CdpAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "apps.core",
    "apps.sources",
    "apps.events",
    "apps.profiles",
    "apps.tracking",
    "apps.workflows",
    "apps.destinations",
    "apps.reports",
    "apps.api",
]

MIDDLEWARE = [
    "apps.core.middleware.ProcessTimeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.PublicCorsMiddleware",
    # /track, /collect and /redirect go from here straight to their views (the rest serves
    # the admin and the API).
    "apps.core.middleware.TrackingShortcutMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cdp.urls"
WSGI_APPLICATION = "cdp.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL"), conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60)
    )
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The hottest statements (a returning visitor's /track request) run on server-bound cursors that
# psycopg prepares after 5 runs on a connection (apps.core.rows.server_bound_cursor); every
# other query binds on the client and is never prepared. Set it false behind a pooler in
# transaction mode that does not track prepared statements (PgBouncer before 1.21).
if env_bool("DATABASE_PREPARED_STATEMENTS", True):
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "cdp"),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            # A frozen Redis fails a cache call after this long instead of holding the
            # request (or /api/v1/health, which then reports Redis down) indefinitely.
            "SOCKET_CONNECT_TIMEOUT": 5,
            "SOCKET_TIMEOUT": 5,
        },
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
# The documentation site, built from docs/ by `python3 run.py docs` and served under /docs/.
CDP_DOCS_ROOT = BASE_DIR / "var" / "docs"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (the admin's profile imports): read by the web process that takes the upload
# and by the worker that imports it, so web and workers must share this directory.
MEDIA_ROOT = Path(env_str("CDP_MEDIA_ROOT", "") or CDP_VAR_DIR / "media")
MEDIA_URL = "media/"  # never served as such: files are downloaded through admin views
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# CORS, as Tracardi answers it: the tracker runs on any customer site, and
# navigator.sendBeacon always sends credentials, so the request's origin is echoed (a `*`
# with credentials is refused by browsers), credentials are allowed, and any request header a
# preflight asks for is allowed (apps.core.middleware.PublicCorsMiddleware). Only the public
# endpoints and the tracker's scripts; never /admin or /api.
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = True
CORS_URLS_REGEX = r"^/(track|collect|redirect|tracker)(/.*)?$"
CORS_EXPOSE_HEADERS = ("x-process-time", "x-context")

REST_FRAMEWORK = {
    # The management API (/api/v1/): API keys, or a staff user's admin session. The tracking
    # endpoints set their own (none: a source id is their credential).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.api.parsers.ApiJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.ApiCursorPagination",
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CDP API",
    "DESCRIPTION": (
        "The management API (/api/v1/, `Authorization: Bearer <API key>`) and the public "
        "tracking endpoints (/track, /collect, /redirect: Tracardi-compatible)."
    ),
    "VERSION": "1.0.0",
    # Swagger UI and Redoc from this server's static files: nothing loads from another site.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # 3.1: the tracking contract is JSON Schema 2020-12 (e.g. "type": ["string", "null"]).
    "OAS_VERSION": "3.1.0",
    "PREPROCESSING_HOOKS": ["apps.api.schema.drop_aliases"],
    # Operations are grouped by what follows /api/v1/ (sources, profiles, ...).
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.api.schema.add_error_responses",
    ],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
}
# Requests per window per API key (0: no limit).
CDP_API_RATE_LIMIT = env_int("CDP_API_RATE_LIMIT", 1200)
CDP_API_RATE_WINDOW_SECONDS = env_int("CDP_API_RATE_WINDOW_SECONDS", 60)

# Tracking
CDP_TRACK_MAX_BODY_BYTES = env_int("CDP_TRACK_MAX_BODY_BYTES", 1024 * 1024)
CDP_SOURCE_CACHE_SECONDS = env_int("CDP_SOURCE_CACHE_SECONDS", 5)
# A session idle for longer than this starts a new visit when it comes back.
CDP_VISIT_TIMEOUT_MINUTES = env_int("CDP_VISIT_TIMEOUT_MINUTES", 30)
# Tracardi's DISALLOW_BOT_TRAFFIC: refuse requests whose user agent is a bot with 401. Off by
# default: bot traffic is stored and flagged (`is_bot`), so that it can be looked at.
CDP_DISALLOW_BOT_TRAFFIC = env_bool("CDP_DISALLOW_BOT_TRAFFIC", False)
# Tracardi's AUTO_PROFILE_MERGING: the secret in the hashed profile ids that webhook sources
# with generate_profile derive from an e-mail or phone (apps.tracking.collect). Give it
# Tracardi's value to keep the ids a Tracardi installation made. Empty: no hashed ids.
CDP_PROFILE_ID_HASH_KEY = env_str("CDP_PROFILE_ID_HASH_KEY", "")
DATA_UPLOAD_MAX_MEMORY_SIZE = CDP_TRACK_MAX_BODY_BYTES
# A MaxMind-format database (GeoLite2/GeoIP2 City or Country .mmdb) that new sessions' IPs are
# located in (apps.profiles.geo); empty: no geolocation. Never downloaded: the operator puts it.
CDP_GEOIP_DATABASE = env_str("CDP_GEOIP_DATABASE", "")
# Rate limits of the public endpoints (apps.tracking.ratelimit): requests per window per source
# and per client of a source, 0 = no limit (the default: nothing is limited unless configured
# here or in a source's config.rate_limit).
CDP_RATE_LIMIT_SOURCE = env_int("CDP_RATE_LIMIT_SOURCE", 0)
CDP_RATE_LIMIT_CLIENT = env_int("CDP_RATE_LIMIT_CLIENT", 0)
CDP_RATE_LIMIT_WINDOW_SECONDS = env_int("CDP_RATE_LIMIT_WINDOW_SECONDS", 60)
# Proxies in front of the web process that append to X-Forwarded-For: the client is the address
# the outermost one saw. 0: REMOTE_ADDR (X-Forwarded-For is the client's own claim then).
CDP_RATE_LIMIT_PROXIES = env_int("CDP_RATE_LIMIT_PROXIES", 0)

# Celery: Redis broker by default, or RabbitMQ (CELERY_BROKER_URL=amqp://user:password@host:5672/vhost);
# results, locks, heartbeats and the cache stay on REDIS_URL either way. Delivery and run state
# live in PostgreSQL, so a lost message is recovered by the beat sweeps rather than by the broker.
# kombu spells a Redis unix socket (the embedded Redis) redis+socket://.
CELERY_BROKER_URL = env_str(
    "CELERY_BROKER_URL",
    REDIS_URL.replace("unix://", "redis+socket://", 1)
    if REDIS_URL.startswith("unix://")
    else REDIS_URL,
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 4)
CELERY_TASK_IGNORE_RESULT = True
# Without it Celery's Django fixup closes the database connection before and after every
# task (a new PostgreSQL backend per task: most of a short task's time). Connections are
# then kept as Django keeps them (DATABASE_CONN_MAX_AGE, health checks) and recycled
# every 1000 tasks.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 600)}
# A worker (and beat) survives any broker outage: it reconnects for as long as it takes,
# at start-up too, instead of exiting after Celery's 100 attempts (about 45 minutes). The
# Redis transport is cdp.celery.RedisTransport (a broker killed under a worker).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# One queue per worker tier (docs/scaling.md), so each tier is started, sized and scaled on its
# own (`celery -A cdp worker --queues <name>`): event processing and workflows; deliveries (a send
# waits on a remote for up to its timeout, and hanging destinations must never hold the processes
# that run workflows); and maintenance: segments, imports, erasures, consents, purges, metrics
# (long batches that must not delay events). A worker started without --queues consumes them all
# (development, tests). Name two tiers alike to fold them into one queue (a small installation:
# CDP_QUEUE_MAINTENANCE=celery). The workflows queue keeps Celery's default name, `celery`, so
# messages sent before the tiers existed are still consumed.
CDP_QUEUE_WORKFLOWS = env_str("CDP_QUEUE_WORKFLOWS", "celery")
# Queue of the deliveries tier (destination sends and scheduled syncs).
CDP_QUEUE_DESTINATIONS = env_str("CDP_QUEUE_DESTINATIONS", "destinations")
# Queue of the maintenance tier (segments, imports, erasures, consents, purges, metrics, visits).
CDP_QUEUE_MAINTENANCE = env_str("CDP_QUEUE_MAINTENANCE", "maintenance")
CDP_WORKER_QUEUES = tuple(
    dict.fromkeys((CDP_QUEUE_WORKFLOWS, CDP_QUEUE_DESTINATIONS, CDP_QUEUE_MAINTENANCE))
)
CELERY_TASK_DEFAULT_QUEUE = CDP_QUEUE_WORKFLOWS
CELERY_TASK_QUEUES = tuple(Queue(name) for name in CDP_WORKER_QUEUES)
# Task name -> queue, by family (exact names are matched before patterns); a task of no family
# goes to the default queue, the workflows one. tests/core/test_queues.py lists every task.
CELERY_TASK_ROUTES = {
    "tracking.retention_purge": {"queue": CDP_QUEUE_MAINTENANCE},
    "tracking.daily_metrics_refresh": {"queue": CDP_QUEUE_MAINTENANCE},
    "tracking.visits_end": {"queue": CDP_QUEUE_MAINTENANCE},
    "workflows.*": {"queue": CDP_QUEUE_WORKFLOWS},
    "tracking.*": {"queue": CDP_QUEUE_WORKFLOWS},
    "destinations.*": {"queue": CDP_QUEUE_DESTINATIONS},
    "profiles.*": {"queue": CDP_QUEUE_MAINTENANCE},
    "events.*": {"queue": CDP_QUEUE_MAINTENANCE},
}
# The request side's hand-off to the broker (apps/tracking/handoff.py): connect, socket and
# pool waits are bounded by this, and a failed send is left to the requeue sweep.
CDP_HANDOFF_TIMEOUT_MS = env_int("CDP_HANDOFF_TIMEOUT_MS", 500)
# After a failed send, a process leaves its messages to the sweep this long without trying, so
# a frozen broker costs one request per process the timeout, not every request.
CDP_HANDOFF_PAUSE_SECONDS = env_int("CDP_HANDOFF_PAUSE_SECONDS", 5)
# django-celery-beat's database scheduler, recording a heartbeat on every tick (health check).
CELERY_BEAT_SCHEDULER = "apps.core.beat:HeartbeatScheduler"
CELERY_TIMEZONE = TIME_ZONE
# The beat schedule is code: each app lists its periodic jobs in CELERY_BEAT_SCHEDULE below.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}

# Destinations (apps.destinations, DESIGN §9): postponed, debounced syncs. Retry times in ms
# (tests use a few ms).
CDP_DESTINATION_CACHE_SECONDS = env_int("CDP_DESTINATION_CACHE_SECONDS", 5)
# Whole seconds: django-celery-beat stores intervals as integers.
CDP_DELIVERY_DISPATCH_SECONDS = env_int("CDP_DELIVERY_DISPATCH_SECONDS", 2)
# A claimed delivery whose worker is gone is resent after this; longer than any send can last.
CDP_DELIVERY_LEASE_SECONDS = env_int("CDP_DELIVERY_LEASE_SECONDS", 120)
CDP_DELIVERY_MAX_ATTEMPTS = env_int("CDP_DELIVERY_MAX_ATTEMPTS", 6)
CDP_DELIVERY_RETRY_BASE_MS = env_int("CDP_DELIVERY_RETRY_BASE_MS", 10_000)
CDP_DELIVERY_RETRY_MAX_MS = env_int("CDP_DELIVERY_RETRY_MAX_MS", 3_600_000)
CDP_DELIVERY_MAX_RECOVERIES = env_int("CDP_DELIVERY_MAX_RECOVERIES", 3)
# Worker processes one destination may hold at once (a hanging one blocks no more than this).
CDP_DELIVERY_DESTINATION_CONCURRENCY = env_int("CDP_DELIVERY_DESTINATION_CONCURRENCY", 1)
# A destination whose last send took this long (or timed out) is slow: all slow destinations
# together hold at most CDP_DELIVERY_SLOW_SLOTS worker processes (at least 1; keep it below the
# deliveries worker's concurrency), so hanging ones leave the others processes to send with.
CDP_DELIVERY_SLOW_SEND_MS = env_int("CDP_DELIVERY_SLOW_SEND_MS", 5000)
CDP_DELIVERY_SLOW_SLOTS = max(1, env_int("CDP_DELIVERY_SLOW_SLOTS", 1))
CDP_DELIVERY_RUN_MAX = env_int("CDP_DELIVERY_RUN_MAX", 200)
CDP_DELIVERY_RUN_SECONDS = env_int("CDP_DELIVERY_RUN_SECONDS", 20)
# Scheduled syncs (apps.destinations.services.syncs): profiles queued per batch (one short
# transaction each), and how long a run may go without progress before a new one replaces it
# (its worker died or its message was lost). Each destination's schedule is a django-celery-beat
# PeriodicTask kept in step with its form (the one kind of beat entry that is data, not code).
CDP_DESTINATION_SYNC_BATCH_SIZE = env_int("CDP_DESTINATION_SYNC_BATCH_SIZE", 1000)
CDP_DESTINATION_SYNC_STALE_SECONDS = env_int("CDP_DESTINATION_SYNC_STALE_SECONDS", 600)
CDP_DESTINATION_SYNC_RESUME_SECONDS = env_int("CDP_DESTINATION_SYNC_RESUME_SECONDS", 60)
# Every minute: step again the sync runs whose next batch never came (a lost message, a dead
# worker); expires before the next tick.
CELERY_BEAT_SCHEDULE["destinations-sync-runs-resume"] = {
    "task": "destinations.sync_runs_resume",
    "schedule": 60.0,
    "options": {"expires": 55.0},
}
# Every few seconds: recover stale claims and start send runs for destinations with due
# deliveries. Expires after one interval: a late tick is replaced by the next one.
CELERY_BEAT_SCHEDULE["destinations-dispatch"] = {
    "task": "destinations.deliveries_dispatch",
    "schedule": float(CDP_DELIVERY_DISPATCH_SECONDS),
    "options": {"expires": float(CDP_DELIVERY_DISPATCH_SECONDS)},
}

# Workflows (apps.workflows, DESIGN §6, §8). Rules and compiled workflows are cached per
# process for CDP_WORKFLOW_CACHE_SECONDS; events still `collected` this long after they were
# stored are handed to a worker again (their message was lost).
CDP_WORKFLOW_CACHE_SECONDS = env_int("CDP_WORKFLOW_CACHE_SECONDS", 5)
CDP_WORKFLOW_REQUEUE_AFTER_SECONDS = env_int("CDP_WORKFLOW_REQUEUE_AFTER_SECONDS", 60)
# Events of one profile processed in one transaction; more are left to a follow-up task.
CDP_WORKFLOW_BATCH_SIZE = env_int("CDP_WORKFLOW_BATCH_SIZE", 200)
# Profiles one worker task may process together (apps.tracking.batches): its own, and others
# whose events wait when messages queue up, in one transaction. 1 turns batching off. 20 to
# 35 ran bench/workflows.py's 10-event profiles at about 3,850 events/s on two worker
# processes, 50 at about 3,050 (bench/README.md).
CDP_WORKFLOW_BATCH_PROFILES = env_int("CDP_WORKFLOW_BATCH_PROFILES", 25)
# ... as long as the batch's waiting events stay within about this many: a message that
# arrives behind a batch waits for it.
CDP_WORKFLOW_BATCH_EVENTS = env_int("CDP_WORKFLOW_BATCH_EVENTS", 500)
# How long a task waits for another task holding the same profile before it retries later.
CDP_WORKFLOW_LOCK_TIMEOUT_SECONDS = env_int("CDP_WORKFLOW_LOCK_TIMEOUT_SECONDS", 30)
# The time a /track request gives all the workflows of its rules that answer in the request,
# together (apps.tracking.answers); a run past it is stopped and left to the worker.
CDP_ANSWER_BUDGET_MS = env_int("CDP_ANSWER_BUDGET_MS", 100)
# Networks (CIDR) that a remote call whose URL is templated from event data may reach although
# they are not public (loopback, private, link-local...); empty: none (apps.workflows.urlguard).
CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS = env_networks("CDP_WORKFLOW_HTTP_ALLOWED_NETWORKS")
# Workflow memory (Write to memory, Read from memory, Memory payload collector): a Redis that
# workflows share across runs, the project's Redis unless named; a value bigger than
# CDP_MEMORY_MAX_VALUE_BYTES (its JSON) is refused on the node's error port.
CDP_MEMORY_REDIS_URL = env_str("CDP_MEMORY_REDIS_URL", "") or REDIS_URL
CDP_MEMORY_MAX_VALUE_BYTES = env_int("CDP_MEMORY_MAX_VALUE_BYTES", 64 * 1024)
# Reports (apps.reports): a run is a read-only transaction that PostgreSQL stops after
# CDP_REPORT_TIMEOUT_MS, and answers at most CDP_REPORT_ROW_LIMIT groups.
CDP_REPORT_TIMEOUT_MS = env_int("CDP_REPORT_TIMEOUT_MS", 10_000)
CDP_REPORT_ROW_LIMIT = env_int("CDP_REPORT_ROW_LIMIT", 1000)
# Scheduled workflows (apps.tracking.schedules): profiles run per batch (one transaction that
# holds their profile locks: keep it small), how long a run may go quiet before beat steps it
# again, and before a new firing replaces it.
CDP_WORKFLOW_SCHEDULE_BATCH_SIZE = env_int("CDP_WORKFLOW_SCHEDULE_BATCH_SIZE", 100)
CDP_WORKFLOW_SCHEDULE_RESUME_SECONDS = env_int("CDP_WORKFLOW_SCHEDULE_RESUME_SECONDS", 60)
CDP_WORKFLOW_SCHEDULE_STALE_SECONDS = env_int("CDP_WORKFLOW_SCHEDULE_STALE_SECONDS", 600)
# Every minute: step again the schedule runs whose next batch never came (a lost message, a
# dead worker); expires before the next tick.
CELERY_BEAT_SCHEDULE["tracking-workflow-schedule-runs-resume"] = {
    "task": "tracking.workflow_schedule_runs_resume",
    "schedule": 60.0,
    "options": {"expires": 55.0},
}
# Connector actions (apps.destinations.connectors.http): a vendor's 429 whose Retry-After is at
# most this many seconds is waited out and the call made once more; a longer wait goes to the
# node's error port with the wait stated. 0: never wait (a worker holds its profile meanwhile).
CDP_CONNECTOR_MAX_RETRY_WAIT_SECONDS = env_int("CDP_CONNECTOR_MAX_RETRY_WAIT_SECONDS", 5)
# Vendor API roots by resource type, replacing the built-in ones (a proxy; the tests' server).
CDP_CONNECTOR_API_URLS: dict[str, str] = {}
# Every 30 s: re-enqueue collected events older than the threshold, in bounded batches.
# Expires before the next tick, so a backlog of sweeps never piles up.
CELERY_BEAT_SCHEDULE["workflows-requeue-collected"] = {
    "task": "workflows.requeue_collected_events",
    "schedule": 30.0,
    "options": {"expires": 25.0},
}
# Waits (issue 18, apps.tracking.resume): parked branches claimed per transaction, how long
# one resume job goes on batch after batch, and its beat interval. CDP_WORKFLOW_WAIT_SCALE
# multiplies fixed waits and timeouts (1 in production; tests and demos shorten hours to
# seconds, e.g. 0.001 makes an hour 3.6 s).
# 500 per batch: 100,000 branches due in one minute resumed in 37 s by one worker of
# concurrency 2 (2,700/s, 2.5x its plain event rate; bench/parked.py, load average ~3).
CDP_WORKFLOW_RESUME_BATCH_SIZE = env_int("CDP_WORKFLOW_RESUME_BATCH_SIZE", 500)
CDP_WORKFLOW_RESUME_RUN_SECONDS = env_int("CDP_WORKFLOW_RESUME_RUN_SECONDS", 50)
CDP_WORKFLOW_RESUME_EVERY_SECONDS = env_int("CDP_WORKFLOW_RESUME_EVERY_SECONDS", 5)
CDP_WORKFLOW_WAIT_SCALE = float(env_str("CDP_WORKFLOW_WAIT_SCALE", "1") or "1")
# Every few seconds: resume the parked branches that are due, in bounded batches claimed with
# FOR UPDATE SKIP LOCKED (so two jobs at once share the work). Expires after one interval: a
# tick that waited behind a busy worker is replaced by the next one.
CELERY_BEAT_SCHEDULE["workflows-resume-parked"] = {
    "task": "workflows.resume_parked_runs",
    "schedule": float(CDP_WORKFLOW_RESUME_EVERY_SECONDS),
    "options": {"expires": float(CDP_WORKFLOW_RESUME_EVERY_SECONDS)},
}

# Event types and profiles (apps.events, apps.profiles). Event type schemas and mappings,
# identification points and live segments are cached per process for this long.
CDP_EVENT_TYPE_CACHE_SECONDS = env_int("CDP_EVENT_TYPE_CACHE_SECONDS", 5)
# Scheduled segments: profiles evaluated per task (each batch re-enqueues the next).
CDP_SEGMENT_BATCH_SIZE = env_int("CDP_SEGMENT_BATCH_SIZE", 500)
CDP_SEGMENT_SCHEDULE_SECONDS = env_int("CDP_SEGMENT_SCHEDULE_SECONDS", 900)
# Every 15 minutes: start a sweep over all profiles for each enabled scheduled segment. Expires
# before the next tick, so sweeps never pile up behind a busy worker.
CELERY_BEAT_SCHEDULE["profiles-segments-scheduled"] = {
    "task": "profiles.segments_refresh_scheduled",
    "schedule": float(CDP_SEGMENT_SCHEDULE_SECONDS),
    "options": {"expires": float(CDP_SEGMENT_SCHEDULE_SECONDS) * 0.9},
}

# Every minute: resume the erasures whose job died or whose message was lost.
CELERY_BEAT_SCHEDULE["profiles-erasures-resume"] = {
    "task": "profiles.erasures_resume",
    "schedule": 60.0,
    "options": {"expires": 55.0},
}

# Every five minutes: revoke the consents whose revoke time has passed (auto-revoke days of
# their consent type, or a revoke time a workflow set). A batch per run, re-enqueued while more
# are due; expires before the next tick so runs never pile up behind a busy worker.
CELERY_BEAT_SCHEDULE["profiles-consents-auto-revoke"] = {
    "task": "profiles.consents_auto_revoke",
    "schedule": 300.0,
    "options": {"expires": 290.0},
}

# Every five minutes: profile and event imports whose worker stopped writing progress are
# marked failed (a worker that died mid-import; the rows it committed stay).
CELERY_BEAT_SCHEDULE["profiles-imports-fail-stalled"] = {
    "task": "profiles.import_jobs_fail_stalled",
    "schedule": 300.0,
    "options": {"expires": 290.0},
}
# Every five minutes: the same for event imports.
CELERY_BEAT_SCHEDULE["events-imports-fail-stalled"] = {
    "task": "events.import_jobs_fail_stalled",
    "schedule": 300.0,
    "options": {"expires": 290.0},
}

# Retention (apps.tracking.retention, DESIGN §13): how many days to keep each kind of row;
# unset keeps forever. Events go by event time; an event source's `retention_days` overrides
# CDP_EVENT_RETENTION_DAYS for its events. Sessions go once idle this long and without events.
CDP_EVENT_RETENTION_DAYS = env_days("CDP_EVENT_RETENTION_DAYS")
CDP_WORKFLOW_RUN_RETENTION_DAYS = env_days("CDP_WORKFLOW_RUN_RETENTION_DAYS")
CDP_DELIVERY_ATTEMPT_RETENTION_DAYS = env_days("CDP_DELIVERY_ATTEMPT_RETENTION_DAYS")
CDP_SESSION_RETENTION_DAYS = env_days("CDP_SESSION_RETENTION_DAYS")
# events table partitions: months created ahead of the current one (docs/operations/storage.md)
CDP_EVENT_PARTITIONS_AHEAD = env_int("CDP_EVENT_PARTITIONS_AHEAD", 2)
# Daily at 02:10 (TIME_ZONE): create the events table's partition of the current month and
# CDP_EVENT_PARTITIONS_AHEAD months ahead that are missing (idempotent; an event with no
# partition yet goes to the DEFAULT one and moves when its month's partition is created).
CELERY_BEAT_SCHEDULE["events-partitions-ensure"] = {
    "task": "events.partitions_ensure",
    "schedule": crontab(hour=2, minute=10),
    "options": {"expires": 3_600.0},
}
# Rows deleted per transaction, and the pause between two, so that purges never hold locks or
# the disk long enough to slow /track (bench/purge.py).
CDP_PURGE_BATCH_SIZE = env_int("CDP_PURGE_BATCH_SIZE", 5000)
CDP_PURGE_PAUSE_MS = env_int("CDP_PURGE_PAUSE_MS", 50)
# A purge job gives its worker back after this long and enqueues its continuation (it must end
# well within the broker's visibility timeout, or the message would be delivered again).
CDP_PURGE_RUN_SECONDS = env_int("CDP_PURGE_RUN_SECONDS", 240)
# Every ten minutes: the daily figures of the admin's trend charts (apps.tracking.trends).
CELERY_BEAT_SCHEDULE["tracking-daily-metrics"] = {
    "task": "tracking.daily_metrics_refresh",
    "schedule": 600.0,
    "options": {"expires": 540.0},
}
# Nightly at 03:30 (TIME_ZONE): delete what is past its retention. Expires after 6 hours: a
# night missed is caught up by the next one, never run in the day's traffic.
CELERY_BEAT_SCHEDULE["tracking-retention-purge"] = {
    "task": "tracking.retention_purge",
    "schedule": crontab(hour=3, minute=30),
    "options": {"expires": 6 * 3600.0},
}

# Every minute: close the visits idle for CDP_VISIT_TIMEOUT_MINUTES (a `visit-ended` event).
CELERY_BEAT_SCHEDULE["tracking-visits-end"] = {
    "task": "tracking.visits_end",
    "schedule": 60.0,
    "options": {"expires": 55.0},
}
# Liveness for /api/v1/health (apps.core.heartbeats): each worker queue runs a heartbeat task.
for _queue in CDP_WORKER_QUEUES:
    CELERY_BEAT_SCHEDULE[f"core-heartbeat-{_queue}"] = {
        "task": "core.heartbeat",
        "schedule": 15.0,
        "args": [_queue],
        "options": {"queue": _queue, "expires": 60.0},
    }
# A heartbeat older than this marks its process down (503 from /api/v1/health).
CDP_HEALTH_MAX_HEARTBEAT_AGE_SECONDS = env_int("CDP_HEALTH_MAX_HEARTBEAT_AGE_SECONDS", 90)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
