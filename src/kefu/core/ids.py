"""Object ids that never collide with ticket ids or with each other.

Ticket ids are small sequential numbers people say aloud (#1234). Every other object (users,
organizations, comments, audit events, ...) takes its id from one global sequence that starts
far above any ticket number, so an id names one object in the whole system — API clients
such as zenpy cache objects by id alone (ARCHITECTURE.md, "The public API").

PostgreSQL: a real sequence; ``nextval`` is outside transactions, so concurrent writers never
wait on each other. SQLite: a one-row counter updated inside the caller's transaction; SQLite
has one writer at a time anyway, and a rolled-back transaction gives its numbers back together
with the rows that used them, so no committed object ever shares an id.
"""

from django.db import connections, models

OBJECT_ID_START = 10_000_000_000
SEQUENCE_NAME = "kefu_object_id_seq"


def allocate_ids(count: int, *, using: str = "default") -> list[int]:
    """Reserve ``count`` fresh ids (ascending)."""
    if count <= 0:
        return []
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT nextval('{SEQUENCE_NAME}') FROM generate_series(1, %s)",  # noqa: S608 - constant name
                [count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            "UPDATE core_idsequence SET value = value + %s WHERE id = 1 RETURNING value",
            [count],
        )
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError("core_idsequence is empty; run `kefu migrate`")
    last = row[0]
    return list(range(last - count + 1, last + 1))


def next_id(*, using: str = "default") -> int:
    return allocate_ids(1, using=using)[0]


def assign_ids(objs: list, *, using: str = "default") -> list:
    """Give each object without a primary key one (one round trip); return ``objs``."""
    missing = [obj for obj in objs if obj.pk is None]
    for obj, new_id in zip(missing, allocate_ids(len(missing), using=using), strict=True):
        obj.pk = new_id
    return objs


class ObjectIdQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        return super().bulk_create(assign_ids(list(objs), using=self.db), *args, **kwargs)


class ObjectIdModel(models.Model):
    """Abstract base: the primary key comes from the global object id sequence."""

    id = models.BigIntegerField(primary_key=True, editable=False)

    objects = ObjectIdQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is None:
            self.pk = next_id(using=kwargs.get("using") or "default")
            if not args:
                kwargs["force_insert"] = True
        super().save(*args, **kwargs)
