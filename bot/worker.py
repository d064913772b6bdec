"""`python -m bot worker [--burst]`: RQ jobs plus the periodic scheduler."""
from __future__ import annotations

import logging

from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry

from bot import scheduler

log = logging.getLogger(__name__)


def run(services, burst: bool = False) -> int:
    """Burst: run what is due and queued (including back-offs already due), then exit."""
    import handlers  # noqa: F401  (registers the periodic tasks of every feature)
    worker = SimpleWorker([services.queue], connection=services.redis)
    if burst:
        scheduler.run_due(services, force=True)
        _enqueue_due_scheduled(services)
        worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
        return 0
    scheduler.start_thread(services, services.settings.scheduler_interval_s)
    worker.work(with_scheduler=True, logging_level="INFO")
    return 0


def _enqueue_due_scheduled(services) -> None:
    """Move back-off retries whose time has come onto the queue (RQ's scheduler does this when long-running)."""
    registry = ScheduledJobRegistry(queue=services.queue)
    from datetime import datetime, timezone
    for job_id in registry.get_jobs_to_schedule(datetime.now(timezone.utc).timestamp()):
        job = services.queue.fetch_job(job_id)
        if job is not None:
            services.queue._enqueue_job(job)
            registry.remove(job)
