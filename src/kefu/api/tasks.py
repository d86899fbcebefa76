from django.tasks import task


@task()
def run_job(job_id: int) -> None:
    """Work one bulk API job (``kefu.api.jobs``); safe to run again."""
    from .jobs import run

    run(job_id)
