from django.tasks import task


@task()
def run_job(job_id: int) -> None:
    """Work one bulk API job (``kefu.api.jobs``); safe to run again."""
    from .jobs import run

    run(job_id)


@task()
def recover_stalled_jobs() -> int:
    """Enqueue again bulk jobs that nobody works on (``kefu.api.jobs.recover_stalled``)."""
    from .jobs import recover_stalled

    return recover_stalled()
