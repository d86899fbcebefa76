from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend

from .models import User


class EmailBackend(ModelBackend):
    """Email + password sign-in; suspended and inactive people cannot sign in."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        address = (email or username or "").strip().lower()
        if not address or password is None:
            return None
        try:
            user = User.objects.get(email=address)
        except User.DoesNotExist:
            User().set_password(password)  # same work either way: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def user_can_authenticate(self, user) -> bool:
        return bool(user.is_active and not user.suspended)

    def get_user(self, user_id):
        try:
            user = User.objects.get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class ThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for sign-ins that come with a request (the web forms).

    Code that authenticates without a request (the CLI, tests calling ``authenticate``) has
    no client address to throttle by, so it passes through to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def throttle_username(request, credentials) -> str:
    """The address django-axes counts failures under: the email, trimmed and lower-cased."""
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email")
    if value is None and request is not None:
        value = request.POST.get("username", "")
    return str(value or "").strip().lower()
