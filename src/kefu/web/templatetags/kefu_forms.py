"""``{% field_widget field %}``: a form field's input, drawing <select>s without templates.

Django draws every <option> through a template include; a ticket page has ~100 options
(statuses, groups, agents, followers), which made widget rendering half of the page's render
time. Selects are drawn here with ``format_html`` (same markup and accessibility attributes:
``aria-describedby``/``aria-invalid`` from ``build_widget_attrs``); every other widget is
drawn by Django as usual.
"""

from typing import Any

from django import forms, template
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


def _selected(value: Any) -> set[str]:
    values = value if isinstance(value, list | tuple) else [value]
    return {str(v) for v in values if v is not None}


@register.simple_tag
def field_widget(field: forms.BoundField) -> SafeString:
    widget = field.field.widget
    if not isinstance(widget, forms.Select) or isinstance(widget, forms.RadioSelect):
        return SafeString(str(field))
    attrs = field.build_widget_attrs({**widget.attrs, "id": field.auto_id})
    if widget.allow_multiple_selected:
        attrs["multiple"] = True
    selected = _selected(field.value())
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, " selected" if str(value) in selected else "", label)
            for value, label in field.field.choices  # type: ignore[attr-defined]
        ),
    )
    html = format_html('<select name="{}"{}>{}</select>', field.html_name, flatatt(attrs), options)
    if field.field.show_hidden_initial:
        html += field.as_hidden(only_initial=True)
    return html
