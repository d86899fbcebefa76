"""Business operations on organizations, memberships and identities."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.actions import create_user, normalize_email, normalize_tags
from kefu.accounts.choices import Role
from kefu.accounts.models import Group, User

from .choices import IdentityType
from .models import Identity, Organization, OrganizationMembership


def _normalize_domains(domains: Iterable[str] | str) -> list[str]:
    """Takes a list or one string separated by spaces or commas ("acme.cn, acme.com")."""
    if isinstance(domains, str):
        domains = [domains]
    seen: dict[str, None] = {}
    for domain in domains:
        for part in str(domain).replace(",", " ").split():
            part = part.strip().lower().lstrip("@")
            if part:
                seen.setdefault(part, None)
    return list(seen)


def _check_name(name: str, *, exclude: Organization | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("An organization needs a name.")]})
    taken = Organization.objects.filter(name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError({"name": [_("An organization with this name already exists.")]})
    return name


def _check_external_id(external_id: str | None, *, exclude: Organization | None = None) -> None:
    if not external_id:
        return
    taken = Organization.objects.filter(external_id=external_id)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError({"external_id": [_("This external id is already in use.")]})


def create_organization(
    *,
    name: str,
    domain_names: Iterable[str] | str = (),
    tags: Iterable[str] | str = (),
    notes: str = "",
    details: str = "",
    shared_tickets: bool = False,
    shared_comments: bool = False,
    external_id: str | None = None,
    group: Group | None = None,
) -> Organization:
    name = _check_name(name)
    _check_external_id(external_id)
    return Organization.objects.create(
        name=name,
        domain_names=_normalize_domains(domain_names),
        tags=normalize_tags(tags),
        notes=notes,
        details=details,
        shared_tickets=shared_tickets,
        shared_comments=shared_comments and shared_tickets,
        external_id=external_id or None,
        group=group,
    )


UPDATABLE_ORGANIZATION_FIELDS = {
    "name", "domain_names", "tags", "notes", "details", "shared_tickets", "shared_comments",
    "external_id", "group",
}  # fmt: skip


def update_organization(organization: Organization, **changes: object) -> Organization:
    unknown = set(changes) - UPDATABLE_ORGANIZATION_FIELDS
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    if "name" in changes:
        changes["name"] = _check_name(str(changes["name"]), exclude=organization)
    if "external_id" in changes:
        changes["external_id"] = changes["external_id"] or None
        _check_external_id(changes["external_id"], exclude=organization)  # type: ignore[arg-type]
    if "domain_names" in changes:
        changes["domain_names"] = _normalize_domains(changes["domain_names"])  # type: ignore[arg-type]
    if "tags" in changes:
        changes["tags"] = normalize_tags(changes["tags"])  # type: ignore[arg-type]
    for name, value in changes.items():
        setattr(organization, name, value)
    if not organization.shared_tickets:
        organization.shared_comments = False
    organization.save()
    return organization


def delete_organization(organization: Organization) -> None:
    """Delete an organization; members stay, their tickets lose the organization."""
    organization.delete()


@transaction.atomic
def create_or_update_organization(
    *, external_id: str | None = None, changes: dict[str, object]
) -> tuple[Organization, bool]:
    """Zendesk's ``organizations/create_or_update``: the organization with this external id
    (else, when no external id is given, the one with this name, ignoring case) is updated
    with ``changes``; otherwise one is created. Returns ``(organization, created)``."""
    changes = dict(changes)
    external_id = changes.pop("external_id", external_id)  # type: ignore[assignment]
    organization = None
    if external_id:
        organization = Organization.objects.filter(external_id=external_id).first()
    elif changes.get("name"):
        organization = Organization.objects.filter(
            name__iexact=str(changes["name"]).strip()
        ).first()
    if organization is None:
        unknown = set(changes) - UPDATABLE_ORGANIZATION_FIELDS
        if unknown:
            raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
        name = str(changes.pop("name", "") or "")
        created = create_organization(name=name, external_id=external_id, **changes)  # type: ignore[arg-type]
        return created, True
    if external_id:
        changes = {**changes, "external_id": external_id}
    return update_organization(organization, **changes), False


_UNKNOWN = object()


def organization_for_email(email: str) -> Organization | None:
    """The organization whose domain names include this address's domain, if exactly one."""
    domain = email.rsplit("@", 1)[-1].lower()
    if not domain:
        return None
    # Domain lists are short; JSON containment is not portable to SQLite, so filter in Python
    # over the organizations that mention the domain at all.
    candidates = [
        org
        for org in Organization.objects.filter(domain_names__icontains=domain)
        if domain in org.domain_names
    ]
    return candidates[0] if len(candidates) == 1 else None


@transaction.atomic
def add_organization_membership(
    *, user: User, organization: Organization, default: bool = False
) -> OrganizationMembership:
    user.__dict__.pop(_KNOWN_ORGANIZATION, None)
    membership, _created = OrganizationMembership.objects.get_or_create(
        user=user, organization=organization
    )
    has_default = OrganizationMembership.objects.filter(user=user, default=True).exists()
    if default or not has_default:
        OrganizationMembership.objects.filter(user=user).exclude(pk=membership.pk).update(
            default=False
        )
        if not membership.default:
            membership.default = True
            membership.save(update_fields=["default", "updated_at"])
    return membership


@transaction.atomic
def remove_organization_membership(*, user: User, organization: Organization) -> None:
    user.__dict__.pop(_KNOWN_ORGANIZATION, None)
    OrganizationMembership.objects.filter(user=user, organization=organization).delete()
    if not OrganizationMembership.objects.filter(user=user, default=True).exists():
        first = OrganizationMembership.objects.filter(user=user).order_by("id").first()
        if first is not None:
            first.default = True
            first.save(update_fields=["default", "updated_at"])


# A person made by ``create_end_user_with_email`` carries its default organization (the
# membership it just wrote, or none) on the instance, under this name: the ticket it opens next
# asks for it, and need not read it back. The membership actions drop it from the instance
# they are given.
_KNOWN_ORGANIZATION = "_kefu_default_organization"


def default_organization(user: User) -> Organization | None:
    known = user.__dict__.get(_KNOWN_ORGANIZATION, _UNKNOWN)
    if known is not _UNKNOWN:
        return known
    membership = (
        OrganizationMembership.objects.select_related("organization")
        .filter(user=user)
        .order_by("-default", "id")
        .first()
    )
    return membership.organization if membership else None


def _normalize_identity(type: str, value: str) -> str:
    if type == IdentityType.EMAIL:
        return normalize_email(value) or ""
    return value.strip()


def add_identity(
    *, user: User, type: str, value: str, primary: bool = False, verified: bool = False
) -> Identity:
    """Record an address this person writes from. An address belongs to one person only."""
    if type not in IdentityType.values:
        raise ValidationError({"type": [_("Unknown identity type: %(type)s") % {"type": type}]})
    value = _normalize_identity(type, value)
    if not value:
        raise ValidationError({"value": [_("An identity needs a value.")]})
    existing = Identity.objects.filter(type=type, value=value).first()
    if existing is not None:
        if existing.user_id != user.pk:
            raise ValidationError({"value": [_("This address belongs to someone else.")]})
        return existing
    with transaction.atomic():
        if primary:
            Identity.objects.filter(user=user, type=type).update(primary=False)
        return Identity.objects.create(
            user=user, type=type, value=value, primary=primary, verified=verified
        )


def remove_identity(identity: Identity) -> None:
    identity.delete()


def find_user_by_identity(*, type: str, value: str) -> User | None:
    value = _normalize_identity(type, value)
    identity = Identity.objects.select_related("user").filter(type=type, value=value).first()
    return identity.user if identity else None


def find_or_create_end_user(*, email: str, name: str = "") -> User:
    """The person who writes from this address, creating an end user on first contact."""
    user = find_user_by_identity(type=IdentityType.EMAIL, value=email)
    if user is not None:
        return user
    return create_user(name=name, email=email, role=Role.END_USER)


def create_end_user_with_email(*, email: str, name: str = "", locale: str = "") -> User:
    """A new end user who writes from ``email``: the person, their primary email identity and,
    when one organization's domain names include the address's domain, the membership — in
    five or six statements (``create_user`` takes ~14 for the same: it re-checks, draws each id
    alone and serves every role). For channels meeting a sender for the first time; the
    caller has already found no identity for the address (a concurrent creation of the same
    identity fails on its unique constraint with IntegrityError).

    A person who already has the address as their ``User.email`` but no identity for it (made
    before identities, or imported) is that sender: they get the identity and are returned,
    so one address never splits into two people. Raises ValidationError for an address that
    is not one. Atomic; inside the caller's transaction it adds no savepoint.
    """
    from django.core.validators import validate_email

    from kefu.core.ids import allocate_ids

    address = normalize_email(email) or ""
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({"email": [_("Enter a valid email address.")]}) from None
    name_field = User._meta.get_field("name")
    name = " ".join((name or "").split())[: name_field.max_length] or address.split("@")[0]
    with transaction.atomic(savepoint=False):
        owner = User.objects.filter(email=address).first()
        if owner is not None:
            add_identity(user=owner, type=IdentityType.EMAIL, value=address, primary=True)
            return owner
        organization = organization_for_email(address)
        ids = allocate_ids(3 if organization is not None else 2)
        user = User(
            id=ids[0],
            name=name,
            email=address,
            role=Role.END_USER,
            locale=locale,
            time_zone="Asia/Shanghai",  # create_user's default
        )
        user.set_unusable_password()
        user.save(force_insert=True)
        Identity(id=ids[1], user=user, type=IdentityType.EMAIL, value=address, primary=True).save(
            force_insert=True
        )
        if organization is not None:
            OrganizationMembership(
                id=ids[2], user=user, organization=organization, default=True
            ).save(force_insert=True)
    user.__dict__[_KNOWN_ORGANIZATION] = organization
    return user


def set_identity_bouncing(*, type: str, value: str, bouncing: bool) -> Identity | None:
    """Mark an address as bouncing (mail to it fails) or as working again; None if unknown."""
    from kefu.core import clock

    value = _normalize_identity(type, value)
    identity = Identity.objects.filter(type=type, value=value).first()
    if identity is None or identity.bouncing == bouncing:
        return identity
    identity.bouncing = bouncing
    identity.bounced_at = clock.now() if bouncing else None
    identity.save(update_fields=["bouncing", "bounced_at", "updated_at"])
    return identity
