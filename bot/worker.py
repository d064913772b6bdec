"""`python -m bot worker [--burst]`: RQ jobs plus the periodic scheduler."""
from __future__ import annotations

import logging

from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry

from bot import scheduler

log = logging.getLogger(__name__)


def run(services, burst: bool = False, horizon_s: float = 0) -> int:
    """Burst: run what is due and queued (back-offs due within `horizon_s` too), then exit."""
    import handlers  # noqa: F401  (registers the periodic tasks of every feature)
    from bot import broadcasts, meetings, tickets  # noqa: F401  (and of the services behind them)
    worker = SimpleWorker([services.queue], connection=services.redis)
    if burst:
        scheduler.run_due(services, force=True)
        _enqueue_due_scheduled(services, horizon_s)
        worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
        return 0
    scheduler.start_thread(services, services.settings.scheduler_interval_s)
    worker.work(with_scheduler=True, logging_level="INFO")
    return 0


def _enqueue_due_scheduled(services, horizon_s: float = 0) -> None:
    """Move back-off retries whose time has come onto the queue (RQ's scheduler does this when long-running)."""
    registry = ScheduledJobRegistry(queue=services.queue)
    from datetime import datetime, timezone
    for job_id in registry.get_jobs_to_schedule(datetime.now(timezone.utc).timestamp() + horizon_s):
        job = services.queue.fetch_job(job_id)
        if job is not None:
            services.queue._enqueue_job(job)
            registry.remove(job)
