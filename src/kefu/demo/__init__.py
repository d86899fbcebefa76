"""Believable bilingual demo data: ``kefu demo`` and ``kefu run --demo``.

A Chinese/English support team (groups, agents, views, macros), customer organizations and
their people, and tickets in every status with conversations that read like real ones —
退货/refunds, 发票/invoices, 物流/delivery, 维修/repairs, logins, payments, API bugs, ...

Everything goes through the actions (the one write path): people and organizations through
``accounts``/``crm``, tickets through ``import_tickets``, which keeps historical dates and
writes the same rows ``create_ticket`` would (tag rows, comments, audits with events). Tickets
are imported in batches, one transaction each, so 100,000 tickets take minutes on SQLite
rather than the hour one ``create_ticket`` call per ticket would.

The output depends only on ``seed`` (Python's ``random``; no Faker) and "now". Calling
``generate`` again reuses the groups, organizations and agents it finds by name/email, gives
new customers addresses nobody has, and adds more tickets: it never fails on a unique name.

``content`` holds what people say; ``generator`` decides who says what, and when.
"""

from .generator import generate

__all__ = ["generate"]
