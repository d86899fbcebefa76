"""In-app notifications driven by ticket changes (the ``rules.notifications`` hook):
assigned to me, mentioned in an internal note (``@name`` / ``@email``), an update on a ticket
I follow, all child tasks of my ticket done. Rule emails (triggers) are in ``delivery.py``."""

import re
from collections.abc import Sequence

from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import bulk
from kefu.core.ids import assign_ids
from kefu.tickets.choices import Status
from kefu.tickets.hooks import TicketChange
from kefu.tickets.models import Ticket

from .choices import NotificationKind
from .delivery import notification_rows, notify_in_app
from .models import ChildTask, Notification, TicketOwner

DONE = (Status.SOLVED, Status.CLOSED)
# (subject, body) templates for the email channel; note bodies stay in the app (internal).
MENTION_EMAIL = ("[Mentioned 提到了您] #{{ticket.id}} {{ticket.title}}", "{{ticket.url}}")
FOLLOWER_EMAIL = (
    "[Update 更新] #{{ticket.id}} {{ticket.title}}",
    "{{ticket.latest_public_comment}}\n\n{{ticket.url}}",
)
CHILDREN_DONE_EMAIL = (
    "[Child tasks done 子任务已完成] #{{ticket.id}} {{ticket.title}}",
    "{{ticket.url}}",
)
_MENTION = re.compile(r"@([^\s@]+@[^\s@]+\.[^\s@]+|[^\s@]+)")


def mentioned_agents(body: str) -> list[User]:
    """Agents named in ``body`` as ``@email`` or ``@name`` (names may contain spaces and
    Chinese: ``@Alice 王`` or ``@王强``)."""
    if "@" not in body:
        return []
    emails = {m.lower() for m in _MENTION.findall(body) if "@" in m}
    found = {}
    staff = User.objects.filter(role__in=["agent", "admin", "light_agent"], is_active=True)
    for user in staff.only("id", "name", "email", "role"):
        if (user.email and user.email.lower() in emails) or f"@{user.name}" in body:
            found[user.pk] = user
    return list(found.values())


def notify_on_change(change: TicketChange) -> None:
    """The ``rules.notifications`` ticket hook."""
    if change.kind not in ("create", "update"):
        return
    ticket = change.notes.get("ticket", change.ticket) if change.depth == 0 else change.ticket
    actor = change.actor
    title = f"#{ticket.pk} {ticket.subject}"
    if (
        change.changed("assignee_id")
        and ticket.assignee is not None
        and (actor is None or actor.pk != ticket.assignee_id)
    ):
        notify_in_app(
            [ticket.assignee],
            kind=NotificationKind.ASSIGNED,
            subject=_("Assigned to you: %(title)s") % {"title": title},
            ticket=ticket,
            actor=actor,
        )
    if change.changed("status") and ticket.status in DONE:
        _children_done(ticket, actor)
    if change.depth != 0:
        return
    if change.kind == "create":
        return  # followers set at creation were just added; nothing to tell them yet
    comment = change.comment
    mentioned: list[User] = []
    if comment is not None and not comment.public:
        mentioned = [u for u in mentioned_agents(comment.body) if actor is None or u.pk != actor.pk]
        notify_in_app(
            mentioned,
            kind=NotificationKind.MENTIONED,
            subject=_("%(name)s mentioned you on %(title)s")
            % {"name": actor.name if actor else _("Kefu"), "title": title},
            body=comment.body[:1000],
            ticket=ticket,
            actor=actor,
            email=MENTION_EMAIL,
        )
    skip = {u.pk for u in mentioned} | ({actor.pk} if actor is not None else set())
    followers = [u for u in ticket.followers.all() if u.pk not in skip]
    if followers:
        notify_in_app(
            followers,
            kind=NotificationKind.FOLLOWER_UPDATE,
            subject=_("Update on %(title)s") % {"title": title},
            body=comment.body[:1000] if comment is not None else "",
            ticket=ticket,
            actor=actor,
            email=FOLLOWER_EMAIL,
        )


def notify_on_change_many(changes: Sequence[TicketChange]) -> Sequence[TicketChange]:
    """``notify_on_change`` for a batch (``hooks.run_many``): the "assigned to you" notices of
    changes without a comment are inserted at once; a change with a comment, one that
    solves or closes the ticket, and one on a ticket with followers to tell go through
    ``notify_on_change``."""
    changes = [c for c in changes if c.kind in ("create", "update")]
    # Followers told of an update (depth 0, no comment here), read for the batch at once.
    followers: dict[int, set[int]] = {}
    quiet = [c.ticket.pk for c in changes if c.depth == 0 and c.kind == "update"]
    if quiet:
        rows = Ticket.followers.through.objects.filter(ticket_id__in=quiet)
        for ticket_id, user_id in rows.values_list("ticket_id", "user_id"):
            followers.setdefault(ticket_id, set()).add(user_id)
    left: list[TicketChange] = []
    notices: list[Notification] = []
    for change in changes:
        ticket = change.notes.get("ticket", change.ticket) if change.depth == 0 else change.ticket
        actor = change.actor
        told = followers.get(ticket.pk, set()) - ({actor.pk} if actor is not None else set())
        if (
            change.comment is not None
            or (change.changed("status") and ticket.status in DONE)
            or (change.depth == 0 and change.kind == "update" and told)
        ):
            left.append(change)
            continue
        if (
            change.changed("assignee_id")
            and ticket.assignee is not None
            and (actor is None or actor.pk != ticket.assignee_id)
        ):
            notices.extend(
                notification_rows(
                    [ticket.assignee],
                    kind=NotificationKind.ASSIGNED,
                    subject=_("Assigned to you: %(title)s")
                    % {"title": f"#{ticket.pk} {ticket.subject}"},
                    ticket=ticket,
                    actor=actor,
                )
            )
    if notices:
        bulk.insert(Notification, assign_ids(notices))
    return left


def _children_done(child: Ticket, actor: User | None) -> None:
    link = ChildTask.objects.filter(child=child).select_related("parent").first()
    if link is None:
        return
    siblings = Ticket.objects.filter(
        pk__in=ChildTask.objects.filter(parent_id=link.parent_id).values("child_id")
    )
    if siblings.exclude(status__in=DONE).exclude(pk=child.pk).exists():
        return
    parent = link.parent
    owner = TicketOwner.objects.filter(ticket=parent).select_related("owner").first()
    recipient = parent.assignee or (owner.owner if owner else None)
    if recipient is None:
        return
    notify_in_app(
        [recipient],
        kind=NotificationKind.CHILDREN_DONE,
        subject=_("All child tasks of #%(id)s are done") % {"id": parent.pk},
        ticket=parent,
        actor=actor,
        email=CHILDREN_DONE_EMAIL,
    )
