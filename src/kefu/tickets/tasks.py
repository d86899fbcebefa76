from django.tasks import task


@task()
def close_solved() -> int:
    """Close tickets solved longer ago than the account's auto-close days (idempotent)."""
    from .actions import close_solved_tickets

    return close_solved_tickets()
