"""Settings read from environment variables.

With no DATABASE_URL the project runs on its embedded defaults: SQLite and Celery tasks executed
in-process. With DATABASE_URL (PostgreSQL) and REDIS_URL it uses them, as in production.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
# Production (DEBUG=False) refuses to start without SECRET_KEY: a default key would let anyone sign sessions.
SECRET_KEY = env.str("SECRET_KEY") if not DEBUG else env.str("SECRET_KEY", default="dev-only-insecure-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "csplatform.tenancy",
    "csplatform.jobs",
    "csplatform.notifications",
    "accounts",
    "success_plans",
    "health",
    "renewals",
    "compensation",
    "insights",
    "bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Pages render and read date-times in the signed-in user's zone; the API and jobs stay in UTC.
    "csplatform.tenancy.timezones.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Both set the current tenant (context variable + PostgreSQL setting) for the rest of the request.
    "csplatform.tenancy.middleware.TenantPathMiddleware",
    "csplatform.tenancy.middleware.ApiTokenMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the login page with the lockout message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "csplatform.urls"
WSGI_APPLICATION = "csplatform.wsgi.application"

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
                "csplatform.tenancy.context_processors.tenancy",
                "csplatform.notifications.context_processors.bell",
            ],
            "builtins": [
                "csplatform.tenancy.templatetags.tenant_urls",
                "csplatform.tenancy.templatetags.formatting",  # |money, |amount
                "csplatform.tenancy.templatetags.navigation",  # {% main_navigation %}
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A kept connection is checked before a request reuses it: after a PostgreSQL restart the next request reconnects
# instead of failing on a dead socket (docs/reliability.md).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if env.str("TEST_DATABASE_NAME", default=""):  # lets two test runs share one PostgreSQL server
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# The role the app serves as in production: owns no table, so it cannot switch row level security off.
# `migrate` (run as the owner) grants it row access on every table (csplatform/tenancy/db_roles.py).
DATABASE_RUNTIME_ROLE = env.str("DATABASE_RUNTIME_ROLE", default="csplatform_app")
# A role that bypasses row level security would silently disable the second tenancy lock, so the
# app refuses to connect as one unless this loudly named switch is set (never in production).
DANGEROUSLY_ALLOW_RLS_BYPASS_ROLE = env.bool("DANGEROUSLY_ALLOW_RLS_BYPASS_ROLE", default=False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tenancy.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="csplatform@localhost")
# Where users reach the product: emails sent without a request (digests) link to it.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- API ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["csplatform.tenancy.api_auth.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["csplatform.tenancy.permissions.IsTenantMember"],
    "DEFAULT_SCHEMA_CLASS": "csplatform.tenancy.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["csplatform.tenancy.api_input.StrictFilterBackend"],
    # JSON bodies only (another media type is a 415), of at most DATA_UPLOAD_MAX_MEMORY_SIZE (a 413 above it).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "csplatform.tenancy.api_input.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Customer success platform API",
    "DESCRIPTION": "Tenant-scoped API. Authenticate with `Authorization: Bearer <token>`; "
    "the token decides the tenant.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "accounts.models.Account.Status",
        "EscalationStatusEnum": "accounts.models.Escalation.Status",
        "JobRunStatusEnum": "csplatform.jobs.models.JobRun.Status",
        "SuccessPlanStatusEnum": "success_plans.models.SuccessPlan.Status",
        "GoalStatusEnum": "success_plans.models.Goal.Status",
        "TaskStatusEnum": "success_plans.models.Task.Status",
        "DecisionStatusEnum": "success_plans.models.Decision.Status",
        "AdvocacyStatusEnum": "success_plans.models.Advocacy.Status",
        "ProductFeedbackStatusEnum": "success_plans.models.ProductFeedback.Status",
        "ValueKindEnum": "success_plans.models.ValueRealised.Kind",
        "BusinessReviewKindEnum": "success_plans.models.BusinessReview.Kind",
        "AdvocacyKindEnum": "success_plans.models.Advocacy.Kind",
        "SurveyKindEnum": "health.models.SurveyResponse.Kind",
        "ContractStatusEnum": "renewals.models.Contract.Status",
        "RenewalStageEnum": "renewals.models.RenewalOpportunity.Stage",
        "ExpansionStageEnum": "renewals.models.ExpansionOpportunity.Stage",
        "ExpansionKindEnum": "renewals.models.ExpansionOpportunity.Kind",
        "CompRuleKindEnum": "compensation.models.CompRule.Kind",
        "CompStatementStatusEnum": "compensation.models.CompStatement.Status",
    },
}

# --- Celery --------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Without a broker the embedded default runs tasks in-process, so `make run` needs nothing else.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is redelivered, and jobs are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis down or hung must not hang a request that enqueues: connect and read time out within seconds and a
# publish is retried once, then csplatform.jobs.queue logs it and goes on (docs/reliability.md).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # A task taken by a worker that died is handed to another worker after this long; longer than any task
    # (a longer one is delivered twice, and the job lock makes the second attempt wait, then skip).
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
# Workers and beat wait for Redis however long it is away, and carry on when it is back.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TIMEZONE = TIME_ZONE
# A usage batch, survey answer, ticket or pulse rescored its account within this delay (debounced per tenant).
HEALTH_REFRESH_DELAY_SECONDS = env.int("HEALTH_REFRESH_DELAY_SECONDS", default=30)
# Pending marks older than the delay plus this were left by a refresh task that never ran (Redis was down):
# the next signal schedules another one instead of waiting for the night.
HEALTH_REFRESH_LOST_AFTER_SECONDS = env.int("HEALTH_REFRESH_LOST_AFTER_SECONDS", default=300)
# Usage rows (health_usagedaily, health_usagekey) older than this are deleted by the nightly job
# health.usage_retention, which also drops monthly partitions wholly past it (health/partitions.py).
USAGE_RETENTION_DAYS = env.int("USAGE_RETENTION_DAYS", default=400)
# Days of health score history the demo computes (the tests use fewer to stay quick).
DEMO_SCORE_HISTORY_DAYS = env.int("DEMO_SCORE_HISTORY_DAYS", default=180)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Synced into django-celery-beat's tables at beat start-up; ops edit the time in the admin.
CELERY_BEAT_SCHEDULE = {
    "nightly": {
        "task": "csplatform.jobs.tasks.nightly_fan_out",
        "schedule": crontab(hour=env.int("NIGHTLY_HOUR_UTC", default=2), minute=0),
    },
    # Hourly: each member's digest goes at 07:xx their local time (csplatform/notifications/digests.py).
    "digests": {
        "task": "csplatform.notifications.tasks.digests_fan_out",
        "schedule": crontab(minute=env.int("DIGEST_MINUTE", default=5)),
    },
}

# --- Tenancy and jobs ------------------------------------------------------------------------------
API_TOKEN_DEFAULT_LIFETIME = timedelta(days=env.int("API_TOKEN_LIFETIME_DAYS", default=365))
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo-cs-2026")
# Where an uploaded CRM file waits between its preview and its commit; shared by all web servers.
ACCOUNTS_IMPORT_DIR = env.str("ACCOUNTS_IMPORT_DIR", default="")

# --- Security: login lockout, sessions, cookies, public-page rate limits (docs/operations.md) --------------
# Shared by every web process (gunicorn workers, several machines) when Redis is there, so a rate limit counted
# in one worker holds in the others. CACHE_REDIS_URL may point at another Redis database than the broker's.
CACHE_REDIS_URL = env.str("CACHE_REDIS_URL", default=REDIS_URL)
CACHES = {
    # Redis down degrades the cache to misses (rate limits open) instead of failing pages: csplatform/cache.py.
    "default": {"BACKEND": "csplatform.cache.TolerantRedisCache", "LOCATION": CACHE_REDIS_URL,
                "KEY_PREFIX": "csp", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
    if CACHE_REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# Proxies in front of the app that append to X-Forwarded-For (1 behind one nginx or load balancer). 0 trusts
# no header: the client address is REMOTE_ADDR. Lockouts and rate limits are per client address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
# django-axes, database handler (shared by all workers): an email is locked after LOGIN_FAILURE_LIMIT failures
# within the cool-off, a client address after LOGIN_IP_FAILURE_LIMIT (higher: an office shares one address).
AXES_HANDLER = "csplatform.security.lockout.LoginAttemptHandler"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_IP_FAILURE_LIMIT = env.int("LOGIN_IP_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the lock ends when the message says it does
AXES_USERNAME_FORM_FIELD = "username"  # the login form's and the admin's field (it holds the email)
AXES_USERNAME_CALLABLE = "csplatform.security.lockout.login_username"
AXES_CLIENT_IP_CALLABLE = "csplatform.security.network.client_ip"
AXES_LOCKOUT_CALLABLE = "csplatform.security.lockout.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # failures are what we need; a row per successful login would grow forever
AXES_VERBOSE = False  # no start-up banner in every management command

# A working day: a session ends 12 hours after login whatever happens in it.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # pages carry the token in the form and in htmx's headers; no script reads the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # The TLS-terminating proxy sets X-Forwarded-Proto; it must overwrite whatever the client sent.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading puts the domain in the browsers' built-in HTTPS-only list, hard to undo: the operator's
        # call (SECURE_HSTS_PRELOAD=true), so check --deploy does not ask for it.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
