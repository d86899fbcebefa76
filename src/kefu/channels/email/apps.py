import datetime as dt
from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _seed_after_migrate(*, using: str = "default", **_kwargs: Any) -> None:
    """``kefu migrate`` (and ``kefu run``, which migrates) saves ``KEFU_SUPPORT_EMAIL`` as the
    first support address: seeding is a write, done once here, never on a read. Like Django's
    own post-migrate steps (content types, permissions), not domain flow."""
    from .config import seed
    from .models import SupportAddress

    if SupportAddress._meta.db_table in connections[using].introspection.table_names():
        seed(using=using)


class EmailConfig(AppConfig):
    name = "kefu.channels.email"
    label = "email"
    verbose_name = "Email"

    def ready(self) -> None:
        post_migrate.connect(_seed_after_migrate, sender=self)
        from django.utils.translation import gettext_lazy as _

        from kefu.core import scheduler
        from kefu.tickets import hooks
        from kefu.web.admin.sections import AdminSection, register

        from . import imap, inbound, outbound

        hooks.register("email.deliver_replies", outbound.deliver_reply, order=900)
        register(
            AdminSection(
                key="email",
                title=_("Email"),
                url_name="email:admin",
                order=90,
                description=_("Support addresses, mailboxes, quarantined and suspended mail."),
            )
        )
        scheduler.register(
            "email.process_pending",
            every=dt.timedelta(minutes=1),
            task=inbound.process_pending_task,
        )
        scheduler.register(
            "email.retry_outbound", every=dt.timedelta(minutes=1), task=outbound.retry_outbound_task
        )
        scheduler.register(
            "email.poll_mailboxes", every=dt.timedelta(seconds=30), task=imap.poll_mailboxes_task
        )
