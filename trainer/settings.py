"""Settings, read from the environment (see the configuration table in README.md).

With nothing set, the platform runs on embedded defaults: SQLite under ``var/``, a filesystem Celery broker, the
console e-mail backend. ``TRAINER_ENV=production`` turns on the hardened profile and refuses an unsafe setup.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

django_stubs_ext.monkeypatch()  # lets forms/models be subscripted for the type checker

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

TRAINER_ENV = env.str("TRAINER_ENV", default="development")
if TRAINER_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"TRAINER_ENV must be 'development' or 'production', not {TRAINER_ENV!r}")
PRODUCTION = TRAINER_ENV == "production"

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- secrets and hosts -------------------------------------------------------------------------------------
DEV_SECRET_KEY = "dev-insecure-key-do-not-use-in-production-0123456789abcdefghijklmnop"
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

if PRODUCTION:
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "Production mode needs a SECRET_KEY of at least 50 random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production mode.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Production mode needs ALLOWED_HOSTS (comma-separated host names).")

# --- applications ------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "trainer.core",
    "trainer.accounts",
    "trainer.bank",
    "trainer.practice",
    "trainer.exams",
    "trainer.courses",
    "labs.nodes",
    "labs.nodehost",
    "labs.grading",
    "lti_tool",
    "trainer.lti",
]

MIDDLEWARE = [
    "trainer.core.middleware.DatabaseUnavailableMiddleware",  # process_exception runs last: a DB outage → 503
    "trainer.core.middleware.RequestSizeLimitMiddleware",  # a body over UPLOAD_MAX_BYTES → 413, before it is read
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "trainer.lti.middleware.LtiCookieMiddleware",  # response phase after sessions/CSRF: SameSite=None for LTI
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "trainer.lti.middleware.LtiFrameMiddleware",  # response phase before CSP/X-Frame-Options: LMS may frame
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "trainer.urls"
WSGI_APPLICATION = "trainer.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "trainer" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "trainer.core.context_processors.platform",
            ],
        },
    },
]

# --- database ----------------------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'trainer.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that worker and node-host processes started by tests see the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-trainer.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- Celery ------------------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND", default=REDIS_URL or f"file://{VAR_DIR / 'celery' / 'results'}"
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery" / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
else:
    # A message not acknowledged within this time is handed to another worker (acks_late): keep it above
    # the hard time limit so that a slow task is not run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
if CELERY_RESULT_BACKEND.startswith("file://"):
    (VAR_DIR / "celery" / "results").mkdir(parents=True, exist_ok=True)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = timedelta(hours=6)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)
CELERY_TASK_MAX_DELIVERIES = env.int("CELERY_TASK_MAX_DELIVERIES", default=3)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "exams-sweep-overdue": {"task": "exams.sweep_overdue", "schedule": 30.0},
    "labs-sweep-stuck-runs": {"task": "labs.sweep_stuck_runs", "schedule": 60.0},
    "labs-sweep-attempts": {"task": "labs.sweep_attempts", "schedule": 30.0},
}
CELERY_TIMEZONE = "UTC"

# --- caches ------------------------------------------------------------------------------------------------
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    )
}

# --- authentication and login throttling -------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "core:home"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="PACS Trainer <noreply@localhost>")

# --- internationalisation ----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- static and media files --------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "trainer" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)  # any request body; larger → 413
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES
BANK_IMPORT_MAX_BYTES = env.int("BANK_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)  # one bank file
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- API ---------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PACS Trainer API",
    "DESCRIPTION": "Exam prep and hands-on DICOM labs for PACS administrators.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PlatformRoleEnum": "trainer.accounts.models.Role",
        "CourseRoleEnum": "trainer.courses.models.CourseRole",
        "CognitiveLevelEnum": "trainer.bank.models.CognitiveLevel",
        "QueryLevelEnum": ["PATIENT", "STUDY", "SERIES", "IMAGE"],
        "NodeKindEnum": "labs.nodes.models.NodeKind",
        "AssignmentKindEnum": "trainer.courses.models.AssignmentKind",
        "LabAttemptStatusEnum": "labs.grading.models.AttemptStatus",
        "GradingRunStatusEnum": "labs.grading.models.RunStatus",
    },
}

# --- security headers --------------------------------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- LTI 1.3 tool (trainer/lti, on django-lti + pylti1p3) -------------------------------------------------------
LTI_DEFAULT_TRACK = env.str("LTI_DEFAULT_TRACK", default="CIIP")  # track of courses created for LMS contexts
LTI_HTTP_TIMEOUT_SECONDS = env.float("LTI_HTTP_TIMEOUT_SECONDS", default=15.0)  # calls to the platform
LTI_PASSBACK_MAX_RETRIES = env.int("LTI_PASSBACK_MAX_RETRIES", default=10)
LTI_PASSBACK_RETRY_BASE_SECONDS = env.float("LTI_PASSBACK_RETRY_BASE_SECONDS", default=30.0)
# Keep the longest wait under the broker's visibility timeout (3600 s) so a waiting retry is not delivered twice.
LTI_PASSBACK_RETRY_MAX_SECONDS = min(env.float("LTI_PASSBACK_RETRY_MAX_SECONDS", default=1800.0), 3000.0)

# --- labs: the node host -----------------------------------------------------------------------------------
NODE_HOST_BIND = env.str("NODE_HOST_BIND", default="127.0.0.1")
NODE_PUBLIC_HOST = env.str("NODE_PUBLIC_HOST", default="127.0.0.1")
NODE_PORT_RANGE = tuple(env.list("NODE_PORT_RANGE", cast=int, default=[11200, 12199]))
NODE_STORAGE_ROOT = Path(env.str("NODE_STORAGE_ROOT", default=str(VAR_DIR / "nodes")))
NODE_ALLOWED_NETWORKS = [
    ipaddress.ip_network(n) for n in env.list("NODE_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
]
NODE_HOST_HEARTBEAT_SECONDS = env.int("NODE_HOST_HEARTBEAT_SECONDS", default=5)
NODE_HOST_ID = env.str("NODE_HOST_ID", default="")  # empty: the machine's host name
NODE_HOST_POLL_SECONDS = env.float("NODE_HOST_POLL_SECONDS", default=0.25)
NODE_IDLE_MINUTES = env.int("NODE_IDLE_MINUTES", default=120)  # a running node unused this long is stopped
NODE_IDLE_WARNING_MINUTES = env.int("NODE_IDLE_WARNING_MINUTES", default=15)  # warn the learner this long before
NODE_LOG_KEEP = env.int("NODE_LOG_KEEP", default=200)  # associations kept in each node's log
NODE_MAX_PER_LEARNER = env.int("NODE_MAX_PER_LEARNER", default=5)
if len(NODE_PORT_RANGE) != 2 or NODE_PORT_RANGE[0] > NODE_PORT_RANGE[1]:
    raise ImproperlyConfigured("NODE_PORT_RANGE must be two ports, low,high (e.g. 11200,12199).")

# --- logging -----------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"pynetdicom": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
LABS_GRADING_STUCK_SECONDS = env.int("LABS_GRADING_STUCK_SECONDS", default=300)
LABS_DIR = Path(env.str("LABS_DIR", default=str(BASE_DIR / "fixtures" / "labs")))  # the lab files (YAML)
