"""``{% load sla %}{% sla_badges ticket %}``: the ticket's live SLA deadlines as badges
("回复剩余 23 分钟" / "Reply due in 23m"), red when breached (see ``kefu.sla.badges``)."""

from typing import Any

from django import template

from kefu.sla.badges import badges_for
from kefu.tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("sla/partials/badges.html")
def sla_badges(ticket: Ticket) -> dict[str, Any]:
    return {"badges": badges_for([ticket.pk]).get(ticket.pk, [])}
