"""The admin settings' sections: one registry, so later apps add their own pages.

An app registers in its ``AppConfig.ready()``::

    from kefu.web.admin.sections import AdminSection, register
    register(AdminSection(key="email", title=_("Email addresses"),
                          url_name="email:admin_addresses", order=60,
                          description=_("Addresses customers write to.")))

Its views use ``kefu.web.admin.decorators.admin_required`` and its templates extend
``web/admin/base.html`` (the sidebar lists every registered section). See docs/ui.md.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class AdminSection:
    key: str
    title: str | Promise
    url_name: str
    order: int = 100
    description: str | Promise = ""

    @property
    def url(self) -> str:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return ""


_sections: dict[str, AdminSection] = {}


def register(section: AdminSection) -> None:
    """Add (or replace, by ``key``) a section of the admin settings."""
    _sections[section.key] = section


def unregister(key: str) -> None:
    _sections.pop(key, None)


def sections() -> list[AdminSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, str(s.title)))


for _section in (
    AdminSection("agents", _("Agents"), "web_admin:agents", 10,
                 _("Invite agents, change roles and groups.")),
    AdminSection("groups", _("Groups"), "web_admin:groups", 20,
                 _("Teams that tickets are routed to.")),
    AdminSection("fields", _("Ticket fields"), "web_admin:fields", 30,
                 _("Custom fields, their options, and what customers see.")),
    AdminSection("views", _("Views"), "web_admin:views", 40,
                 _("Shared ticket lists in the agents' sidebar.")),
    AdminSection("macros", _("Macros"), "web_admin:macros", 50,
                 _("Canned replies and changes applied in one click.")),
    AdminSection("tags", _("Tags"), "web_admin:tags", 60,
                 _("Every tag in use; rename or delete them everywhere.")),
    AdminSection("settings", _("Tickets and portal"), "web_admin:settings", 70,
                 _("Auto-close days, attachments, customer sign-up.")),
    AdminSection("branding", _("Branding"), "web_admin:branding", 80,
                 _("Company name, logo and colour.")),
):  # fmt: skip
    register(_section)
