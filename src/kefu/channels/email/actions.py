"""The email channel's public operations (the one write path for mail; docs/email.md).

Other apps use these names only: rules send notifications with ``send_notification``; the
admin UI and API manage addresses, mailboxes, quarantine and suspended tickets through them.
"""

from .addresses import (
    create_support_address,
    delete_support_address,
    reply_address,
    update_support_address,
)
from .inbound import (
    delete_suspended,
    failed_messages,
    process_inbound,
    process_pending,
    queue_recover,
    queue_retry,
    recover_suspended,
    retry_inbound,
    store_inbound,
    suspended_tickets,
)
from .outbound import queue_acknowledgement, queue_reply, retry_due_outbound, send_notification
from .rendering import check_template
from .settings_actions import (
    check_mailbox_connection,
    create_mailbox,
    delete_mailbox,
    update_email_settings,
    update_email_template,
    update_mailbox,
)
from .verification import verify_support_address

__all__ = [
    "check_mailbox_connection",
    "check_template",
    "create_mailbox",
    "create_support_address",
    "delete_mailbox",
    "delete_support_address",
    "delete_suspended",
    "failed_messages",
    "process_inbound",
    "process_pending",
    "queue_acknowledgement",
    "queue_recover",
    "queue_reply",
    "queue_retry",
    "recover_suspended",
    "reply_address",
    "retry_due_outbound",
    "retry_inbound",
    "send_notification",
    "store_inbound",
    "suspended_tickets",
    "update_email_settings",
    "update_email_template",
    "update_mailbox",
    "update_support_address",
    "verify_support_address",
]
