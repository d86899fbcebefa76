import datetime as dt

from django.apps import AppConfig


class EmailConfig(AppConfig):
    name = "kefu.channels.email"
    label = "email"
    verbose_name = "Email"

    def ready(self) -> None:
        from kefu.core import scheduler
        from kefu.tickets import hooks

        from . import imap, inbound, outbound

        hooks.register("email.deliver_replies", outbound.deliver_reply, order=900)
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
