"""Test settings: the real settings module, pointed at PostgreSQL and Redis, with fast hashing.

pytest uses this module (pyproject.toml); the environment may still override any of these.
"""

import os
import tempfile

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clienteling")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="clienteling-test-"))
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("EMAIL_URL", "memorymail://")
os.environ.setdefault("SMS_TRANSPORT", "clienteling.channels.sms.FileSmsTransport")
# Tests sign staff in with force_login; the second factor has tests of its own.
os.environ.setdefault("TWO_FACTOR_REQUIRED", "false")

from clienteling.settings import *  # noqa: F403
from clienteling.settings import STATIC_ROOT, STORAGES

STATIC_ROOT.mkdir(parents=True, exist_ok=True)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests run over plain HTTP against live_server and the test client.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# No manifest in tests: collectstatic is not run before them.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# A second alias on the same test database, as a replica would be: the router's tests
# turn it on (REPLICA_DATABASE) and prove reads go there and writes never do.
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
