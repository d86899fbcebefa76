from django import template

from ..sections import AdminSection, sections

register = template.Library()


@register.simple_tag
def admin_sections() -> list[AdminSection]:
    """Every registered admin section, in order (for the admin sidebar)."""
    return sections()
