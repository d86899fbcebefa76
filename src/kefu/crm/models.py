from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from kefu.core.ids import ObjectIdModel

from .choices import IdentityType


class Organization(ObjectIdModel):
    """A customer company. End users belong to it through memberships."""

    name = models.CharField(_("name"), max_length=255)
    domain_names = models.JSONField(_("domain names"), default=list, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    details = models.TextField(_("details"), blank=True)
    shared_tickets = models.BooleanField(_("members see each other's tickets"), default=False)
    shared_comments = models.BooleanField(
        _("members may comment on each other's tickets"), default=False
    )
    external_id = models.CharField(_("external id"), max_length=255, null=True, blank=True)
    group = models.ForeignKey(
        "accounts.Group",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("New tickets from this organization go to this group."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="OrganizationMembership",
        related_name="organizations",
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="organization_name_unique_ci"),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=models.Q(external_id__isnull=False),
                name="organization_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OrganizationMembership(ObjectIdModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organization_memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="organization_membership_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.organization}"


class Identity(ObjectIdModel):
    """One address a customer reaches us from. One person, many channels, one history."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identities"
    )
    type = models.CharField(_("type"), max_length=32, choices=IdentityType.choices)
    value = models.CharField(_("value"), max_length=255)
    verified = models.BooleanField(_("verified"), default=False)
    primary = models.BooleanField(_("primary"), default=False)
    # Email: mail to it bounced (a delivery status notification); cleared when they write again.
    bouncing = models.BooleanField(_("bouncing"), default=False)
    bounced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        constraints = [models.UniqueConstraint(fields=["type", "value"], name="identity_unique")]

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"
