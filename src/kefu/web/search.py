"""The quick search behind the top bar's search box.

One function, ``quick_search``: ``#123`` or ``123`` jumps to that ticket; anything else runs
through ``kefu.search`` (Zendesk's syntax, so ``status:open 退货`` works too) over the agent's
visible tickets. A lone email address searches by requester, as agents expect.
"""

import re
from dataclasses import dataclass, field

from django.db.models import QuerySet

from kefu.accounts.models import User
from kefu.search.service import ResultWindowExceeded, search
from kefu.search.syntax import SearchSyntaxError
from kefu.tickets.access import visible_tickets
from kefu.tickets.models import Ticket

TICKET_ID = re.compile(r"^#?\s*(\d{1,18})$")
RESULTS_SHOWN = 50


@dataclass
class SearchResult:
    query: str
    jump_to: int | None = None
    tickets: list[Ticket] = field(default_factory=list)
    count: int = 0
    error: str = ""


def _prepare(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.select_related("requester", "assignee", "custom_status")


def quick_search(user: User, query: str) -> SearchResult:
    query = query.strip()
    if not query:
        return SearchResult(query)
    if match := TICKET_ID.match(query):
        ticket_id = int(match.group(1))
        if visible_tickets(user).filter(pk=ticket_id).exists():
            return SearchResult(query, jump_to=ticket_id)
    text = query
    if "@" in query and ":" not in query and " " not in query:
        text = f"requester:{query}"
    try:
        page = search(
            user=user,
            query=f"type:ticket {text}",
            limit=RESULTS_SHOWN,
            prepare={"ticket": _prepare},
        )
    except (SearchSyntaxError, ResultWindowExceeded) as exc:
        return SearchResult(query, error=str(exc))
    return SearchResult(query, tickets=[hit.object for hit in page.hits], count=page.count)
