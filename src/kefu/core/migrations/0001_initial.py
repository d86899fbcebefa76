from django.db import migrations, models

OBJECT_ID_START = 10_000_000_000


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE SEQUENCE IF NOT EXISTS kefu_object_id_seq START WITH {OBJECT_ID_START}"
        )
    else:
        # The counter holds the last id handed out.
        apps.get_model("core", "IdSequence").objects.create(id=1, value=OBJECT_ID_START - 1)


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS kefu_object_id_seq")


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="IdSequence",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.BigIntegerField()),
            ],
            options={"db_table": "core_idsequence"},
        ),
        migrations.CreateModel(
            name="ScheduledJob",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, unique=True)),
                ("next_run_at", models.DateTimeField()),
                ("last_run_at", models.DateTimeField(blank=True, null=True)),
                ("last_claimed_by", models.CharField(blank=True, max_length=200)),
            ],
        ),
        migrations.RunPython(create_sequence, drop_sequence),
    ]
