"""People endpoints: ``users/me`` (the users/organizations/groups resources come next)."""

from django.http import HttpRequest
from ninja import Router

from kefu.api.auth import current_user

from .models import User
from .schemas import UserEnvelope, prefetch_users, user_json

router = Router(tags=["Users"])


@router.get("users/me", response=UserEnvelope, summary="Show the authenticated user")
def me(request: HttpRequest) -> dict:
    user = prefetch_users(User.objects.filter(pk=current_user(request).pk)).get()
    return {"user": user_json(request, user)}
