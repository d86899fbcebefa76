"""Who may see which tickets, comments, attachments, views and macros.

Every list and detail — web and API — goes through these scopes. A person who must not see
something gets a ``DoesNotExist`` (the views turn it into 404), never a hint that it exists.

- Admins see every ticket.
- Agents see the tickets of their groups, tickets assigned to them, and tickets that have
  no group yet (the unsorted queue someone has to triage).
- End users see tickets they requested or are CC'd on and, where their organization shares
  tickets, the organization's tickets. They never see internal notes.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from kefu.accounts.access import group_ids_of
from kefu.accounts.models import User
from kefu.crm.access import shared_organization_ids

from .choices import Restriction
from .models import Attachment, Comment, Macro, Ticket, View


def visible_tickets(user: User) -> QuerySet[Ticket]:
    tickets = Ticket.objects.filter(deleted_at__isnull=True)
    if not user.is_active or user.suspended:
        return tickets.none()
    if user.is_admin:
        return tickets
    if user.is_agent:
        return tickets.filter(
            Q(group_id__in=group_ids_of(user)) | Q(assignee=user) | Q(group__isnull=True)
        )
    cc = Ticket.email_ccs.through.objects.filter(ticket_id=OuterRef("pk"), user_id=user.pk)
    condition = Q(requester=user) | Q(Exists(cc))
    org_ids = shared_organization_ids(user)
    if org_ids:
        condition |= Q(organization_id__in=org_ids)
    return tickets.filter(condition)


def deleted_tickets(user: User) -> QuerySet[Ticket]:
    if not user.is_agent or not user.is_active or user.suspended:
        return Ticket.objects.none()
    return Ticket.objects.filter(deleted_at__isnull=False)


def access_ticket(user: User, ticket_id: int) -> Ticket:
    """The ticket if ``user`` may see it; raises ``Ticket.DoesNotExist`` otherwise."""
    return visible_tickets(user).get(pk=ticket_id)


def can_edit_ticket(user: User, ticket: Ticket) -> bool:
    """Agents change the tickets they see; light agents add internal notes only; end users
    may only reply (and mark solved)."""
    return user.is_full_agent


def can_comment(user: User, ticket: Ticket) -> bool:
    """Requesters and CCs may reply; organization members only where comments are shared."""
    if user.is_agent or ticket.requester_id == user.pk:
        return True
    if ticket.email_ccs.filter(pk=user.pk).exists():
        return True
    return ticket.organization is not None and ticket.organization.shared_comments


def visible_comments(user: User, ticket: Ticket) -> QuerySet[Comment]:
    comments = Comment.objects.filter(ticket=ticket)
    return comments if user.is_agent else comments.filter(public=True)


def visible_attachments(user: User) -> QuerySet[Attachment]:
    """Attachments on comments the user may read, plus their own unattached uploads."""
    on_comments = Attachment.objects.filter(comment__ticket__in=visible_tickets(user))
    if not user.is_agent:
        on_comments = on_comments.filter(comment__public=True)
    return on_comments | Attachment.objects.filter(comment__isnull=True, uploader=user)


def _restricted(user: User, queryset: QuerySet) -> QuerySet:
    if not user.is_agent:
        return queryset.none()
    if user.is_admin:
        return queryset
    return queryset.filter(
        Q(restriction=Restriction.SHARED)
        | Q(restriction=Restriction.GROUP, restriction_group_id__in=group_ids_of(user))
        | Q(restriction=Restriction.USER, restriction_user=user)
    )


def visible_views(user: User) -> QuerySet[View]:
    return _restricted(user, View.objects.all())


def visible_macros(user: User) -> QuerySet[Macro]:
    return _restricted(user, Macro.objects.all())


def can_configure(user: User) -> bool:
    """Admins manage ticket fields and custom statuses; agents read them."""
    return user.is_admin and user.is_active and not user.suspended


def can_manage_shared(user: User) -> bool:
    """Admins manage shared and group views/macros; agents manage their own."""
    return user.is_admin
