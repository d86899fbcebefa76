# ruff: noqa: E501 - email text, one paragraph per line
"""The templates Kefu starts with (seeded by a migration; admins edit the copies)."""

ACKNOWLEDGEMENT_EN = (
    "[#{{ ticket.id }}] We received your request: {{ ticket.title }}",
    """Dear {{ ticket.requester.name }},

Thank you for writing to us. Your request has been received and given the number #{{ ticket.id }}.
{{ ticket.expected_response }}

You can add to your request by replying to this email. Please keep the number #{{ ticket.id }} in the subject.

Your request:
{{ ticket.description }}
""",
)

ACKNOWLEDGEMENT_ZH = (
    "[#{{ ticket.id }}] 我们已收到您的请求：{{ ticket.title }}",
    """{{ ticket.requester.name }}，您好：

感谢您的来信。您的请求已收到，工单编号为 #{{ ticket.id }}。
{{ ticket.expected_response }}

如需补充信息，请直接回复此邮件，并请在主题中保留编号 #{{ ticket.id }}。

您的请求：
{{ ticket.description }}
""",
)

NOTIFICATION_EN = (
    "[#{{ ticket.id }}] {{ ticket.title }}",
    """Dear {{ recipient.name }},

Your request #{{ ticket.id }} has been updated ({{ ticket.status }}).

{{ ticket.latest_public_comment }}

Reply to this email to answer, or see your request at {{ ticket.url }}
""",
)

NOTIFICATION_ZH = (
    "[#{{ ticket.id }}] {{ ticket.title }}",
    """{{ recipient.name }}，您好：

您的请求 #{{ ticket.id }} 有更新（{{ ticket.status }}）。

{{ ticket.latest_public_comment }}

直接回复此邮件即可答复，也可以在此查看：{{ ticket.url }}
""",
)

DEFAULT_TEMPLATES = {
    "acknowledgement": {"en": ACKNOWLEDGEMENT_EN, "zh-hans": ACKNOWLEDGEMENT_ZH},
    "notification": {"en": NOTIFICATION_EN, "zh-hans": NOTIFICATION_ZH},
}

# Shown as {{ ticket.expected_response }} when the admin wrote nothing and no SLA applies.
DEFAULT_EXPECTED_RESPONSE = {
    "en": "We will get back to you as soon as possible, usually within one working day.",
    "zh-hans": "我们会尽快答复您，通常在一个工作日内。",
}
