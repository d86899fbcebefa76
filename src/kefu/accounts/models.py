import functools
import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.ids import ObjectIdModel, ObjectIdQuerySet

from .choices import STAFF_ROLES, Role


@functools.cache
def _time_zones() -> frozenset[str]:
    # available_timezones() walks the tz database on every call (~13 ms).
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _time_zones():
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value})


class UserManager(BaseUserManager.from_queryset(ObjectIdQuerySet)):  # type: ignore[misc]
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, ObjectIdModel):
    """Everyone who signs in or writes in: end users (customers), agents and admins."""

    email = models.EmailField(_("email"), unique=True, null=True, blank=True)
    name = models.CharField(_("name"), max_length=255)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.END_USER)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    locale = models.CharField(_("locale"), max_length=20, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    external_id = models.CharField(_("external id"), max_length=255, null=True, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    details = models.TextField(_("details"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    suspended = models.BooleanField(_("suspended"), default=False)
    default_group = models.ForeignKey(
        "accounts.Group", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    objects = UserManager()  # type: ignore[misc]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=models.Q(external_id__isnull=False),
                name="user_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name

    @property
    def is_agent(self) -> bool:
        """Staff: agents, admins and light agents, who see tickets (``is_full_agent``: change)."""
        return self.role in STAFF_ROLES

    @property
    def is_full_agent(self) -> bool:
        """Agents and admins, who change tickets and people. Light agents (collaborators from
        other departments) see tickets and add internal notes, nothing more (docs/rules.md)."""
        return self.role in (Role.AGENT, Role.ADMIN)

    @property
    def is_light_agent(self) -> bool:
        return self.role == Role.LIGHT_AGENT

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_end_user(self) -> bool:
        return self.role == Role.END_USER

    # Django admin asks these; Kefu's admin site is for Kefu admins only.
    @property
    def is_staff(self) -> bool:
        return self.is_admin and self.is_active and not self.suspended

    @property
    def is_superuser(self) -> bool:
        return self.is_staff

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return self.is_staff

    def has_perms(self, perm_list, obj=None) -> bool:
        return self.is_staff

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_staff


class Group(ObjectIdModel):
    """A team or department of agents (Zendesk's group)."""

    name = models.CharField(_("name"), max_length=255, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_public = models.BooleanField(_("public"), default=True)
    default = models.BooleanField(_("default"), default=False)
    members = models.ManyToManyField(
        User, through="GroupMembership", related_name="agent_groups", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GroupMembership(ObjectIdModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="group_memberships")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "group"], name="group_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"


class ApiToken(ObjectIdModel):
    """An API token. Only a SHA-256 digest is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    description = models.CharField(max_length=255, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="The first characters, to recognise it.")
    active = models.BooleanField(default=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


DEFAULT_PRIMARY_COLOR = "#1f73b7"


class AccountSettings(models.Model):
    """Instance-wide settings an admin edits (one row, id 1). Policy lives in the database."""

    auto_close_days = models.PositiveIntegerField(_("close solved tickets after (days)"), default=4)
    max_attachment_mb = models.PositiveIntegerField(_("largest attachment (MB)"), default=20)
    blocked_extensions = models.JSONField(
        _("blocked attachment extensions"),
        default=list,
        blank=True,
        help_text=_("File name endings refused as attachments, such as .exe"),
    )
    allow_registration = models.BooleanField(
        _("customers can create an account"),
        default=True,
        help_text=_("People sign up in the portal and confirm their email address."),
    )
    company_name = models.CharField(
        _("company name"),
        max_length=100,
        blank=True,
        help_text=_("Shown in the portal and the agent workspace instead of “Kefu”."),
    )
    logo = models.FileField(_("logo"), upload_to="branding/", blank=True, max_length=300)
    primary_color = models.CharField(
        _("primary colour"),
        max_length=7,
        default=DEFAULT_PRIMARY_COLOR,
        help_text=_("Buttons and links, as #rrggbb."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("account settings")
        verbose_name_plural = _("account settings")

    def __str__(self) -> str:
        return "Account settings"

    @classmethod
    def load(cls) -> "AccountSettings":
        obj, _created = cls.objects.get_or_create(
            pk=1, defaults={"blocked_extensions": list(DEFAULT_BLOCKED_EXTENSIONS)}
        )
        return obj


DEFAULT_BLOCKED_EXTENSIONS = (".exe", ".bat", ".cmd", ".com", ".scr", ".msi", ".js", ".vbs")
