"""Who sees which rules objects. Business rules and webhooks are admin configuration: other
people get an empty scope (the API answers 403 before listing). Notifications are their
recipient's only: anyone else gets 404."""

from django.db.models import QuerySet

from kefu.accounts.models import User

from .models import Automation, Notification, Trigger, TriggerCategory, Webhook


def can_manage_rules(user: User) -> bool:
    return user.is_admin and user.is_active and not user.suspended


def visible_triggers(user: User) -> QuerySet[Trigger]:
    return Trigger.objects.all() if can_manage_rules(user) else Trigger.objects.none()


def visible_trigger_categories(user: User) -> QuerySet[TriggerCategory]:
    if not can_manage_rules(user):
        return TriggerCategory.objects.none()
    return TriggerCategory.objects.all()


def visible_automations(user: User) -> QuerySet[Automation]:
    return Automation.objects.all() if can_manage_rules(user) else Automation.objects.none()


def visible_webhooks(user: User) -> QuerySet[Webhook]:
    return Webhook.objects.all() if can_manage_rules(user) else Webhook.objects.none()


def my_notifications(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)
