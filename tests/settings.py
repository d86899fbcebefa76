"""Test settings: Kefu's settings with a throwaway data dir, fast hashing and eager tasks."""

import os
import tempfile

os.environ.setdefault("KEFU_DATA_DIR", tempfile.mkdtemp(prefix="kefu-test-"))
os.environ.setdefault("KEFU_SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)

from kefu.settings import *  # noqa: F403

# The suite runs on SQLite by default; KEFU_TEST_DATABASE_URL points it at PostgreSQL (CI).
# Only the test settings read it, so it can never redirect a real server's database.
if test_database_url := os.environ.get("KEFU_TEST_DATABASE_URL"):
    DATABASES = {
        "default": database_config(  # noqa: F405
            test_database_url, variable="KEFU_TEST_DATABASE_URL"
        )
    }

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
# Webhook tests call a local HTTP server (tests/rules/test_webhooks.py).
WEBHOOK_ALLOW_PRIVATE = True
