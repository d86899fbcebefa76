"""Business operations on people, groups and API tokens — the one write path."""

import hashlib
import re
import secrets
from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core import clock

from .choices import STAFF_ROLES, Role
from .models import AccountSettings, ApiToken, Group, GroupMembership, User

TOKEN_BYTES = 30


def normalize_email(email: str | None) -> str | None:
    if email is None:
        return None
    email = email.strip().lower()
    return email or None


def normalize_tags(tags: Iterable[str] | str) -> list[str]:
    """Tags as Zendesk keeps them: lower case, no spaces, unique, in the order given.

    Takes a list or one space-separated string ("vip 退货")."""
    if isinstance(tags, str):
        tags = [tags]
    seen: dict[str, None] = {}
    for tag in tags:
        for part in str(tag).split():
            part = part.strip().lower()
            if part:
                seen.setdefault(part, None)
    return list(seen)


def _check_email(email: str | None, *, exclude: User | None = None) -> None:
    if email is None:
        return
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": [_("Enter a valid email address.")]}) from None
    taken = User.objects.filter(email=email)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError({"email": [_("This email address is already in use.")]})


def _check_external_id(external_id: str | None, *, exclude: User | None = None) -> None:
    if not external_id:
        return
    taken = User.objects.filter(external_id=external_id)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError({"external_id": [_("This external id is already in use.")]})


@transaction.atomic
def create_user(
    *,
    name: str,
    email: str | None = None,
    role: str = Role.END_USER,
    password: str | None = None,
    phone: str = "",
    locale: str = "",
    time_zone: str = "Asia/Shanghai",
    external_id: str | None = None,
    tags: Iterable[str] = (),
    notes: str = "",
    organization: "object | None" = None,
    groups: Iterable[Group] = (),
    verified: bool = False,
) -> User:
    """Create a person. Their email and phone become identities (crm) in the same transaction.

    ``organization`` (a ``crm.Organization``) makes them a member; without one, an end user
    whose email domain matches an organization's domain names joins it, as in Zendesk.
    """
    from kefu.crm import actions as crm_actions  # crm depends on accounts' models, not actions

    email = normalize_email(email)
    name = (name or "").strip()
    if not name:
        if email is None:
            raise ValidationError({"name": [_("A name or an email address is required.")]})
        name = email.split("@")[0]
    if role not in Role.values:
        raise ValidationError({"role": [_("Unknown role: %(role)s") % {"role": role}]})
    if role in STAFF_ROLES and email is None:
        raise ValidationError({"email": [_("Agents and admins need an email address.")]})
    _check_email(email)
    _check_external_id(external_id)
    user = User(
        name=name,
        email=email,
        role=role,
        phone=phone.strip(),
        locale=locale,
        time_zone=time_zone,
        external_id=external_id or None,
        tags=normalize_tags(tags),
        notes=notes,
    )
    user.full_clean(exclude=["password", "email", "external_id"])
    if password is not None:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if email:
        crm_actions.add_identity(
            user=user, type="email", value=email, primary=True, verified=verified
        )
    if user.phone:
        crm_actions.add_identity(user=user, type="phone_number", value=user.phone, primary=True)
    if organization is None and email and role == Role.END_USER:
        organization = crm_actions.organization_for_email(email)
    if organization is not None:
        crm_actions.add_organization_membership(user=user, organization=organization)  # type: ignore[arg-type]
    for group in groups:
        add_group_membership(user=user, group=group)
    return user


UPDATABLE_USER_FIELDS = {
    "name", "email", "role", "phone", "locale", "time_zone", "external_id", "tags", "notes",
    "details", "is_active", "suspended", "default_group",
}  # fmt: skip


@transaction.atomic
def update_user(user: User, **changes: object) -> User:
    """Change a person's profile fields (keyword per field; unknown fields are an error)."""
    from kefu.crm import actions as crm_actions

    unknown = set(changes) - UPDATABLE_USER_FIELDS
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    if "email" in changes:
        email = normalize_email(changes["email"])  # type: ignore[arg-type]
        _check_email(email, exclude=user)
        if email and email != user.email:
            crm_actions.add_identity(user=user, type="email", value=email, primary=True)
        changes["email"] = email
    if "external_id" in changes:
        changes["external_id"] = changes["external_id"] or None
        _check_external_id(changes["external_id"], exclude=user)  # type: ignore[arg-type]
    if "tags" in changes:
        changes["tags"] = normalize_tags(changes["tags"])  # type: ignore[arg-type]
    if "role" in changes and changes["role"] not in Role.values:
        raise ValidationError({"role": [_("Unknown role: %(role)s") % {"role": changes["role"]}]})
    if changes.get("role") in STAFF_ROLES and not changes.get("email", user.email):
        raise ValidationError({"email": [_("Agents and admins need an email address.")]})
    for name, value in changes.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password", "email", "external_id"])
    user.save()
    if changes.get("role") == Role.END_USER:
        GroupMembership.objects.filter(user=user).delete()
    return user


def set_password(user: User, password: str) -> None:
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])


@transaction.atomic
def create_or_update_admin(*, email: str, password: str, name: str | None = None) -> User:
    """``kefu createadmin``: make this person an admin with this password."""
    email = normalize_email(email) or ""
    existing = User.objects.filter(email=email).first()
    if existing is None:
        return create_user(name=name or "", email=email, role=Role.ADMIN, password=password)
    changes: dict[str, object] = {"role": Role.ADMIN, "is_active": True, "suspended": False}
    if name:
        changes["name"] = name
    update_user(existing, **changes)
    set_password(existing, password)
    return existing


# --- People through the API: create-or-update and delete ---------------------------------------

CREATABLE_USER_FIELDS = {
    "name", "role", "phone", "locale", "time_zone", "tags", "notes", "organization", "groups",
    "verified", "password",
}  # fmt: skip


def find_user(*, email: str | None = None, external_id: str | None = None) -> User | None:
    """The person with this external id, else the one who owns this email address (any of
    their email identities, not only the primary one), else None."""
    from kefu.crm import actions as crm_actions

    if external_id:
        user = User.objects.filter(external_id=external_id).first()
        if user is not None:
            return user
    if email:
        return crm_actions.find_user_by_identity(type="email", value=email)
    return None


@transaction.atomic
def create_or_update_user(
    *,
    email: str | None = None,
    external_id: str | None = None,
    changes: dict[str, object],
) -> tuple[User, bool]:
    """Zendesk's ``users/create_or_update``: update the person :func:`find_user` finds with
    ``changes`` (``update_user``'s fields), or create one (``create_user``'s arguments).

    Returns ``(user, created)``. Raises ValidationError naming the field, writing nothing.
    """
    changes = dict(changes)
    email = changes.pop("email", email)  # type: ignore[assignment]
    external_id = changes.pop("external_id", external_id)  # type: ignore[assignment]
    user = find_user(email=email, external_id=external_id)
    if user is None:
        unknown = set(changes) - CREATABLE_USER_FIELDS
        if unknown:
            raise ValidationError({name: [_("This field cannot be set.")] for name in unknown})
        name = str(changes.pop("name", "") or "")
        user = create_user(name=name, email=email, external_id=external_id, **changes)  # type: ignore[arg-type]
        return user, True
    updates = dict(changes)
    if email and normalize_email(email) != user.email and external_id:
        updates["email"] = email  # matched by external id: the email is new data
    if external_id and external_id != user.external_id:
        updates["external_id"] = external_id
    return update_user(user, **updates), False


SELF_SERVICE_FIELDS = {"name", "phone", "locale", "time_zone"}


def check_can_change_person(
    actor: User, *, target: User | None, changes: Iterable[str] = (), role: str | None = None
) -> None:
    """Who may create (``target`` None) or change whom, as Zendesk: admins anyone; agents
    end users (and not into staff); everyone their own name, phone, locale and time zone.
    Raises PermissionDenied."""
    if actor.is_admin:
        return
    changes = set(changes)
    if target is not None and target.pk == actor.pk and changes <= SELF_SERVICE_FIELDS:
        return
    staff_involved = (target is not None and target.is_agent) or (role or "") in STAFF_ROLES
    if actor.is_full_agent and not staff_involved:
        return
    raise PermissionDenied(_("You cannot change this person."))


@transaction.atomic
def delete_user(user: User, *, actor: User) -> User:
    """Delete a person the way Zendesk does: softly. They can no longer sign in or use the
    API (``is_active`` false, tokens revoked, out of their groups), and their tickets and
    history stay. Agents delete end users; admins delete anyone but themselves."""
    if user.pk == actor.pk:
        raise ValidationError({"id": [_("You cannot delete yourself.")]})
    if not actor.is_full_agent or (user.is_agent and not actor.is_admin):
        raise PermissionDenied(_("You cannot delete this person."))
    User.objects.filter(pk=user.pk).update(
        is_active=False, default_group=None, updated_at=clock.now()
    )
    ApiToken.objects.filter(user=user).update(active=False)
    GroupMembership.objects.filter(user=user).delete()
    user.refresh_from_db()
    return user


# --- Groups -----------------------------------------------------------------------------------


def create_group(*, name: str, description: str = "", default: bool = False) -> Group:
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("A group needs a name.")]})
    if Group.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": [_("A group with this name already exists.")]})
    with transaction.atomic():
        if default:
            Group.objects.filter(default=True).update(default=False)
        return Group.objects.create(name=name, description=description, default=default)


def update_group(group: Group, *, name: str | None = None, description: str | None = None,
                 default: bool | None = None) -> Group:  # fmt: skip
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": [_("A group needs a name.")]})
        if Group.objects.filter(name__iexact=name).exclude(pk=group.pk).exists():
            raise ValidationError({"name": [_("A group with this name already exists.")]})
        group.name = name
    if description is not None:
        group.description = description
    with transaction.atomic():
        if default:
            Group.objects.filter(default=True).exclude(pk=group.pk).update(default=False)
        if default is not None:
            group.default = default
        group.save()
    return group


def delete_group(group: Group) -> None:
    """Delete a group; its tickets keep their history and become ungrouped."""
    group.delete()


def add_group_membership(*, user: User, group: Group, default: bool = False) -> GroupMembership:
    if not user.is_agent:
        raise ValidationError({"user_id": [_("Only agents can be members of a group.")]})
    with transaction.atomic():
        membership, _created = GroupMembership.objects.get_or_create(user=user, group=group)
        if default or user.default_group_id is None:
            GroupMembership.objects.filter(user=user).exclude(pk=membership.pk).update(
                default=False
            )
            membership.default = True
            membership.save(update_fields=["default", "updated_at"])
            User.objects.filter(pk=user.pk).update(default_group=group)
            user.default_group = group
    return membership


def remove_group_membership(*, user: User, group: Group) -> None:
    with transaction.atomic():
        GroupMembership.objects.filter(user=user, group=group).delete()
        if user.default_group_id == group.pk:
            next_membership = GroupMembership.objects.filter(user=user).order_by("id").first()
            user.default_group = next_membership.group if next_membership else None
            User.objects.filter(pk=user.pk).update(default_group=user.default_group)


# --- API tokens -------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(*, user: User, description: str = "") -> tuple[ApiToken, str]:
    """Make a token for ``user``. Returns the record and the token, which is never stored."""
    if not user.is_active or user.suspended:
        raise ValidationError({"user": [_("This person cannot use the API.")]})
    token = secrets.token_urlsafe(TOKEN_BYTES)
    record = ApiToken.objects.create(
        user=user, description=description, digest=_digest(token), prefix=token[:8]
    )
    return record, token


def revoke_api_token(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).update(active=False)


def authenticate_token(token: str, *, email: str | None = None) -> User | None:
    """The user a token belongs to, or None.

    With ``email`` (HTTP Basic ``email/token:TOKEN``) the token's owner must have that email.
    """
    if not token:
        return None
    record = (
        ApiToken.objects.select_related("user").filter(digest=_digest(token), active=True).first()
    )
    if record is None:
        return None
    user = record.user
    if not user.is_active or user.suspended:
        return None
    if email is not None and normalize_email(email) != user.email:
        return None
    now = clock.now()
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return user


# --- Account settings -------------------------------------------------------------------------


SETTINGS_FIELDS = {
    "auto_close_days", "max_attachment_mb", "blocked_extensions", "allow_registration",
    "company_name", "primary_color",
}  # fmt: skip
COLOR_PATTERN = re.compile(r"#[0-9a-fA-F]{6}")


def update_account_settings(**changes: object) -> AccountSettings:
    """Change instance-wide settings (auto-close days, attachment limits, registration,
    company name, primary colour). The logo changes with ``set_logo``."""
    settings = AccountSettings.load()
    allowed = SETTINGS_FIELDS
    if "primary_color" in changes:
        color = str(changes["primary_color"] or "").strip().lower()
        if not COLOR_PATTERN.fullmatch(color):
            raise ValidationError(
                {"primary_color": [_("Enter a colour as #rrggbb, such as #1f73b7.")]}
            )
        changes["primary_color"] = color
    if "company_name" in changes:
        changes["company_name"] = str(changes["company_name"] or "").strip()
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    if "blocked_extensions" in changes:
        raw = changes["blocked_extensions"]
        words = raw.replace(",", " ").split() if isinstance(raw, str) else list(raw)  # type: ignore[call-overload]
        changes["blocked_extensions"] = sorted({"." + str(w).lower().lstrip(".") for w in words})
    for name, value in changes.items():
        setattr(settings, name, value)
    if settings.max_attachment_mb < 1:
        raise ValidationError(
            {"max_attachment_mb": [_("The largest attachment must be at least 1 MB.")]}
        )
    settings.full_clean()
    settings.save()
    return settings


LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
              ".gif": "image/gif", ".webp": "image/webp"}  # fmt: skip
LOGO_MAX_BYTES = 1024 * 1024


def set_logo(*, file_name: str, content: bytes | None) -> AccountSettings:
    """Replace the logo (PNG, JPEG, GIF or WebP up to 1 MB; SVG is refused because it can
    carry scripts), or remove it with ``content=None``."""
    import os

    from django.core.files.base import ContentFile

    settings = AccountSettings.load()
    if content is None:
        if settings.logo:
            settings.logo.delete(save=False)
        settings.logo = ""
        settings.save()
        return settings
    extension = os.path.splitext(file_name)[1].lower()
    if extension not in LOGO_TYPES:
        raise ValidationError({"logo": [_("The logo must be a PNG, JPEG, GIF or WebP image.")]})
    if not content:
        raise ValidationError({"logo": [_("The file is empty.")]})
    if len(content) > LOGO_MAX_BYTES:
        raise ValidationError({"logo": [_("The logo must be smaller than 1 MB.")]})
    old = settings.logo.name if settings.logo else None
    settings.logo.save(f"logo{extension}", ContentFile(content), save=True)
    if old and old != settings.logo.name:
        settings.logo.storage.delete(old)
    return settings


# --- Sign-up, verification, invitations --------------------------------------------------------


VERIFY_SALT = "kefu.accounts.verify-email"
VERIFY_MAX_AGE = 3 * 24 * 3600


def registration_token(user: User) -> str:
    """A signed, expiring token naming this person and the email address to confirm."""
    from django.core import signing

    return signing.dumps({"u": user.pk, "e": user.email}, salt=VERIFY_SALT, compress=True)


@transaction.atomic
def register_end_user(*, name: str, email: str, password: str, locale: str = "") -> User | None:
    """A customer signs up in the portal. Refused (ValidationError on ``__all__``) when the
    admin turned registration off.

    A new address gets an inactive end user and an email with a confirmation link (see
    ``verify_registration``). An address Kefu knows already gets an email saying so, with a
    link to reset the password, and None is returned: the form answers the same either way,
    so it does not reveal who has an account."""
    if not AccountSettings.load().allow_registration:
        raise ValidationError({"__all__": [_("Sign-up is turned off. Contact us by email.")]})
    from kefu.crm.actions import find_user_by_identity
    from kefu.crm.choices import IdentityType

    address = normalize_email(email)
    if address is None:
        raise ValidationError({"email": [_("Enter a valid email address.")]})
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({"email": [_("Enter a valid email address.")]}) from None
    existing = User.objects.filter(email=address).first() or find_user_by_identity(
        type=IdentityType.EMAIL, value=address
    )
    if existing is not None and (existing.is_active or existing.has_usable_password()):
        validate_password(password, existing)
        from .emails import send_account_email

        send_account_email("already_registered", user=existing, to=address)
        return None
    if existing is not None:
        # Known from an earlier, unconfirmed sign-up: take the new password, confirm again.
        user = existing
        validate_password(password, user)
        update_user(user, name=(name or "").strip() or user.name, locale=locale)
        set_password(user, password)
    else:
        user = create_user(name=name, email=address, password=password, locale=locale)
        update_user(user, is_active=False)
    from .emails import send_account_email

    send_account_email("verify_email", user=user, to=address)
    return user


@transaction.atomic
def verify_registration(token: str) -> User:
    """Confirm a sign-up: the person becomes active and their email identity verified.

    Refused (ValidationError on ``token``) when the link is forged, expired, or names an
    address the person no longer has. Confirming twice is harmless."""
    from django.core import signing

    from kefu.crm.models import Identity

    invalid = ValidationError(
        {"token": [_("This confirmation link is invalid or has expired. Sign up again.")]}
    )
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.BadSignature:
        raise invalid from None
    user = User.objects.filter(pk=data.get("u"), email=data.get("e")).first()
    if user is None or user.suspended:
        raise invalid
    if not user.is_active:
        update_user(user, is_active=True)
    Identity.objects.filter(user=user, type="email", value=user.email).update(verified=True)
    return user


@transaction.atomic
def invite_agent(
    *, name: str, email: str, role: str = Role.AGENT, groups: Iterable[Group] = (),
    invited_by: User | None = None,
) -> User:  # fmt: skip
    """Add an agent (or admin) who sets their own password from an emailed link.

    An end user with this address becomes an agent (Zendesk upgrades the person too)."""
    if role not in STAFF_ROLES:
        raise ValidationError({"role": [_("Invite agents or admins.")]})
    address = normalize_email(email)
    existing = User.objects.filter(email=address).first() if address else None
    if existing is not None:
        if existing.is_agent:
            raise ValidationError({"email": [_("This person is already an agent.")]})
        user = update_user(existing, role=role, is_active=True)
    else:
        user = create_user(name=name, email=address, role=role)
    set_agent_groups(user=user, groups=groups)
    from .emails import send_account_email

    send_account_email("invitation", user=user, to=user.email or "", invited_by=invited_by)
    return user


@transaction.atomic
def set_agent_groups(*, user: User, groups: Iterable[Group]) -> None:
    """Make ``groups`` exactly the agent's groups (the first one becomes the default when
    the current default is removed)."""
    wanted = {group.pk: group for group in groups}
    if wanted and not user.is_agent:
        raise ValidationError({"groups": [_("Only agents can be members of a group.")]})
    current = set(GroupMembership.objects.filter(user=user).values_list("group_id", flat=True))
    for group_id in current - set(wanted):
        remove_group_membership(user=user, group=Group(pk=group_id))
    for group_id, group in wanted.items():
        if group_id not in current:
            add_group_membership(user=user, group=group)
