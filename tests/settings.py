"""Test settings: Kefu's settings with a throwaway data dir, fast hashing and eager tasks."""

import os
import tempfile

os.environ.setdefault("KEFU_DATA_DIR", tempfile.mkdtemp(prefix="kefu-test-"))
os.environ.setdefault("KEFU_SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)

from kefu.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
