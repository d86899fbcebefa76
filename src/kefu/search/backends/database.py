"""The database backend: property terms become ORM lookups, text becomes substring matches.

Substring matching (``icontains``) finds Chinese words inside unsegmented text (退款 in
申请退款被拒绝) on SQLite and PostgreSQL alike. It differs from Zendesk's word-prefix matching
in one way people may notice: ``top`` also finds "desktop". The full-text backend matches
words instead.
"""

import json
from collections.abc import Callable

from django.db.models import Exists, Model, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast

from kefu.accounts.models import Group, GroupMembership, User
from kefu.crm.models import Organization, OrganizationMembership
from kefu.tickets.models import Comment, TicketTag

from ..syntax import ORDERED, Property, SearchQuery, Text, date_range
from .base import SearchBackend, SearchContext

NOTHING = Q(pk__in=[])

TICKET_DATES = {
    "created": "created_at",
    "updated": "updated_at",
    "solved": "solved_at",
    "due_date": "due_at",
}
OTHER_DATES = {"created": "created_at", "updated": "updated_at"}


def _ordered_values(keyword: str, operator: str, value: str) -> list[str]:
    order = ORDERED[keyword]
    rank = order.index(value)
    return {
        ":": [value],
        "<": order[:rank],
        "<=": order[: rank + 1],
        ">": order[rank + 1 :],
        ">=": order[rank:],
    }[operator]


def _date_q(field: str, term: Property, context: SearchContext) -> Q:
    assert term.date is not None
    low, high = date_range(term.date, term.operator, now=context.now, tz=context.tz)
    q = Q(**{f"{field}__isnull": False})
    if low is not None:
        q &= Q(**{f"{field}__gte": low})
    if high is not None:
        q &= Q(**{f"{field}__lt": high})
    return q


def people_q(value: str, context: SearchContext) -> Q:
    """People a ``requester:``/``assignee:`` value names: me, an id, an email, or a name."""
    value = value.strip()
    if value.lower() == "me":
        return Q(pk=context.user.pk)
    if value.isdigit():
        return Q(pk=int(value))
    if "@" in value:
        return Q(email__iexact=value)
    return Q(name__icontains=value) | Q(email__istartswith=value)


def _named_q(value: str) -> Q:
    """An organization or group by id or by the start of its name."""
    value = value.strip()
    if value.isdigit():
        return Q(pk=int(value))
    return Q(name__istartswith=value)


def json_tag_ids(model: type[Model], tags: tuple[str, ...]) -> list[int]:
    """Ids of rows whose JSON ``tags`` list holds any of ``tags``.

    JSON containment is not portable to SQLite, so the database narrows with a text match
    (SQLite stores non-ASCII escaped, PostgreSQL does not: both spellings are tried) and
    Python checks the list exactly.
    """
    text = Cast("tags", output_field=TextField())
    condition = Q()
    for tag in tags:
        condition |= Q(_tags_text__icontains=tag)
        condition |= Q(_tags_text__icontains=json.dumps(tag)[1:-1])
    rows = model._default_manager.annotate(_tags_text=text).filter(condition)
    wanted = set(tags)
    return [pk for pk, values in rows.values_list("pk", "tags") if wanted & set(values or [])]


class DatabaseBackend(SearchBackend):
    name = "database"

    # --- text: what a full-text backend overrides --------------------------------------------

    def text_q(self, result_type: str, text: str, context: SearchContext) -> Q:
        """Free text: subject, description and comments of tickets (public comments only for
        end users); name, email and (agents) notes of people; name, (agents) notes and
        domains of organizations; name and description of groups."""
        agent = context.user.is_agent
        if result_type == "ticket":
            q = Q(subject__icontains=text) | Q(description__icontains=text)
            q |= Q(Exists(self._comments(text, context)))
            if text.isdigit():
                q |= Q(pk=int(text))
            return q
        if result_type == "user":
            q = Q(name__icontains=text) | Q(email__icontains=text)
            return q | Q(notes__icontains=text) if agent else q
        if result_type == "organization":
            q = Q(name__icontains=text) | Q(domain_names__icontains=text)
            return q | Q(notes__icontains=text) if agent else q
        return Q(name__icontains=text) | Q(description__icontains=text)

    def field_text_q(self, result_type: str, field: str, text: str, context: SearchContext) -> Q:
        """``subject:``, ``description:``, ``comment:``, ``name:``, ``notes:``, ``details:``."""
        if field == "comment":
            return Q(Exists(self._comments(text, context)))
        if field in ("notes", "details") and not context.user.is_agent:
            return NOTHING  # private to agents
        return Q(**{f"{field}__icontains": text})

    def _comments(self, text: str, context: SearchContext) -> QuerySet[Comment]:
        comments = Comment.objects.filter(ticket=OuterRef("pk"), body__icontains=text)
        if not context.user.is_agent:
            comments = comments.filter(public=True)
        return comments

    # --- the query ---------------------------------------------------------------------------

    def condition(self, result_type: str, query: SearchQuery, context: SearchContext) -> Q:
        """Every term must match, except that one keyword given several times with ``:``
        matches any of its values (``status:open status:pending``), as Zendesk does and
        zenpy's list arguments rely on. Negated terms and comparisons always add up."""
        q = Q()
        alternatives: dict[str, Q] = {}
        for term in query.terms:
            if isinstance(term, Text):
                part = self.text_q(result_type, term.value, context)
            else:
                part = self.property_q(result_type, term, context)
                if not term.negated and term.operator == ":":
                    alternatives[term.keyword] = alternatives.get(term.keyword, Q(pk__in=[])) | part
                    continue
            q &= ~part if term.negated else part
        for either in alternatives.values():
            q &= either
        return q

    def property_q(self, result_type: str, term: Property, context: SearchContext) -> Q:
        compile_ = _COMPILERS[result_type]
        return compile_(self, term, context)

    # per type --------------------------------------------------------------------------------

    def ticket_q(self, term: Property, context: SearchContext) -> Q:
        keyword, value = term.keyword, term.value
        if keyword in TICKET_DATES:
            return _date_q(TICKET_DATES[keyword], term, context)
        if keyword in ("status", "priority"):
            if value == "none":
                return Q(**{f"{keyword}__isnull": True})
            return Q(**{f"{keyword}__in": _ordered_values(keyword, term.operator, value)})
        if keyword == "ticket_type":
            return Q(type__isnull=True) if value == "none" else Q(type=value)
        if keyword in ("requester", "assignee", "submitter"):
            if value.lower() == "none":
                return Q(**{f"{keyword}__isnull": True})
            return Q(**{f"{keyword}__in": User.objects.filter(people_q(value, context))})
        if keyword in ("organization", "group"):
            if value.lower() == "none":
                return Q(**{f"{keyword}__isnull": True})
            model = Organization if keyword == "organization" else Group
            return Q(**{f"{keyword}__in": model.objects.filter(_named_q(value))})
        if keyword == "tags":
            rows = TicketTag.objects.filter(ticket=OuterRef("pk"), name__in=term.values)
            return Q(Exists(rows))
        if keyword == "external_id":
            return Q(external_id=value)
        return self.field_text_q("ticket", keyword, value, context)

    def user_q(self, term: Property, context: SearchContext) -> Q:
        keyword, value = term.keyword, term.value
        if keyword in OTHER_DATES:
            return _date_q(OTHER_DATES[keyword], term, context)
        if keyword == "role":
            return Q(role=value)
        if keyword == "email":
            return Q(email__iexact=value) if "@" in value else Q(email__icontains=value)
        if keyword == "phone":
            return Q(phone__icontains=value)
        if keyword == "external_id":
            return Q(external_id=value)
        if keyword == "tags":
            return Q(pk__in=json_tag_ids(User, term.values))
        if keyword == "organization":
            if value.lower() == "none":
                return ~Q(Exists(OrganizationMembership.objects.filter(user=OuterRef("pk"))))
            members = OrganizationMembership.objects.filter(
                user=OuterRef("pk"), organization__in=Organization.objects.filter(_named_q(value))
            )
            return Q(Exists(members))
        if keyword == "group":
            in_group = GroupMembership.objects.filter(
                user=OuterRef("pk"), group__in=Group.objects.filter(_named_q(value))
            )
            return Q(Exists(in_group))
        return self.field_text_q("user", keyword, value, context)

    def organization_q(self, term: Property, context: SearchContext) -> Q:
        keyword, value = term.keyword, term.value
        if keyword in OTHER_DATES:
            return _date_q(OTHER_DATES[keyword], term, context)
        if keyword == "external_id":
            return Q(external_id=value)
        if keyword == "tags":
            return Q(pk__in=json_tag_ids(Organization, term.values))
        return self.field_text_q("organization", keyword, value, context)

    def group_q(self, term: Property, context: SearchContext) -> Q:
        if term.keyword in OTHER_DATES:
            return _date_q(OTHER_DATES[term.keyword], term, context)
        return self.field_text_q("group", term.keyword, term.value, context)


_COMPILERS: dict[str, Callable[[DatabaseBackend, Property, SearchContext], Q]] = {
    "ticket": DatabaseBackend.ticket_q,
    "user": DatabaseBackend.user_q,
    "organization": DatabaseBackend.organization_q,
    "group": DatabaseBackend.group_q,
}
