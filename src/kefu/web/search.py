"""The quick search behind the top bar's search box.

One function, ``quick_search``, so it can be swapped for the ``kefu.search`` module (full text
with Chinese segmentation) when that lands: it takes the agent and the typed text and returns
either a ticket id to jump to or a queryset of visible tickets.
"""

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from kefu.accounts.models import User
from kefu.tickets.access import visible_tickets
from kefu.tickets.models import Ticket

TICKET_ID = re.compile(r"^#?\s*(\d{1,18})$")


@dataclass
class SearchResult:
    query: str
    jump_to: int | None
    tickets: QuerySet[Ticket]


def quick_search(user: User, query: str) -> SearchResult:
    """``#123`` or ``123`` jumps to that ticket if the agent may see it; other text matches
    the subject, the description and the requester's email or name (substring match, which
    finds Chinese words without segmentation)."""
    query = query.strip()
    tickets = visible_tickets(user)
    if not query:
        return SearchResult(query, None, tickets.none())
    if match := TICKET_ID.match(query):
        ticket_id = int(match.group(1))
        if tickets.filter(pk=ticket_id).exists():
            return SearchResult(query, ticket_id, tickets.none())
    condition = Q()
    for word in query.split()[:5]:
        condition &= (
            Q(subject__icontains=word)
            | Q(description__icontains=word)
            | Q(requester__email__icontains=word)
            | Q(requester__name__icontains=word)
        )
    return SearchResult(query, None, tickets.filter(condition).order_by("-updated_at"))
