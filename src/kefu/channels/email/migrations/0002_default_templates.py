from django.db import migrations

from kefu.channels.email.defaults import DEFAULT_TEMPLATES
from kefu.core.ids import allocate_ids


def seed(apps, schema_editor):
    EmailTemplate = apps.get_model("email", "EmailTemplate")
    wanted = [
        (key, locale, subject, body)
        for key, locales in DEFAULT_TEMPLATES.items()
        for locale, (subject, body) in locales.items()
        if not EmailTemplate.objects.filter(key=key, locale=locale).exists()
    ]
    ids = allocate_ids(len(wanted), using=schema_editor.connection.alias)
    for pk, (key, locale, subject, body) in zip(ids, wanted, strict=True):
        EmailTemplate.objects.create(id=pk, key=key, locale=locale, subject=subject, body=body)


class Migration(migrations.Migration):
    dependencies = [("email", "0001_initial"), ("core", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
