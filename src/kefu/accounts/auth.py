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
