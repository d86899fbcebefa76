from django.core.mail import EmailMultiAlternatives
from django.tasks import task


@task()
def send_email(*, to: list[str], subject: str, body: str, html: str = "") -> int:
    """Send one email through Django's mail backend (``KEFU_EMAIL_URL``). Retrying after a
    failure may send it twice; account emails (links) tolerate that."""
    message = EmailMultiAlternatives(subject=subject, body=body, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    return message.send()
