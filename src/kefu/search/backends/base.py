import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from kefu.accounts.models import User

from ..syntax import SearchQuery


@dataclass(frozen=True)
class SearchContext:
    """Who searches, and the "now" and time zone that dates in the query are read in."""

    user: User
    now: dt.datetime
    tz: dt.tzinfo


class SearchBackend(ABC):
    """Compiles a parsed query for one record type into a filter on an already-scoped queryset.

    The queryset the service passes in is the searcher's permission scope
    (``visible_tickets(user)`` ...); a backend only narrows it, so it can never widen access.
    """

    name: str = ""

    @abstractmethod
    def condition(self, result_type: str, query: SearchQuery, context: SearchContext) -> Q:
        """One Q that is true for the records of ``result_type`` that match every term."""

    def filter(
        self, queryset: QuerySet, result_type: str, query: SearchQuery, context: SearchContext
    ) -> QuerySet:
        return queryset.filter(self.condition(result_type, query, context))
