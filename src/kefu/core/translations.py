"""Strings Django itself shows but does not (yet) translate into zh-Hans.

Marked here so ``makemessages`` keeps them in Kefu's catalog, which Django consults before
its own: Django 6.1's blank-choice label appeared in English on Chinese forms.
"""

from django.utils.translation import gettext_noop

DJANGO_STRINGS = [
    gettext_noop("- Select an option -"),  # django.db.models.fields.BLANK_CHOICE_LABEL
]
