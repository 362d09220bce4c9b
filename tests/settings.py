"""Settings for the test suite: incity's own settings with test defaults in the environment.

SQLite by default; PostgreSQL when INCITY_TEST_POSTGRES_URL is set (make test
sets it under CI=true).
"""

import os
import tempfile

os.environ.setdefault("INCITY_SECRET_KEY", "test-secret-key-that-is-long-enough-for-the-check")
os.environ.setdefault("INCITY_DATA_DIR", tempfile.mkdtemp(prefix="incity-test-"))
os.environ.setdefault("INCITY_CACHE_URL", "memory")
os.environ.setdefault("INCITY_EMAIL_BACKEND", "memory")
os.environ.setdefault("INCITY_DEMO_MODE", "false")
os.environ.setdefault("INCITY_MFA_ENFORCED", "true")
# A fixed Fernet key for the tests (never used outside them).
os.environ.setdefault("INCITY_ENCRYPTION_KEYS", "dGVzdC1rZXktZm9yLWluY2l0eS10ZXN0cy1vbmx5ISE=")
_postgres = os.environ.get("INCITY_TEST_POSTGRES_URL", "")
if _postgres:
    os.environ["DATABASE_URL"] = _postgres
else:
    os.environ.pop("DATABASE_URL", None)

from incity.settings import *  # noqa: E402, F403

# Fast hashing: tests create many users; production keeps Django's default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
