"""`python -m bot worker [--burst]`: RQ jobs plus the periodic scheduler."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry

from bot.broadcasts import service as broadcasts
from bot.complaints import service as complaints
from bot.meetings import service as meetings
from bot.outreach import surveys
from bot.push import jobs, scheduler

log = logging.getLogger(__name__)

# Every periodic job of the fleet, in one explicit list (nothing registers itself on import).
PERIODIC = [*jobs.PERIODIC, *complaints.PERIODIC, *meetings.PERIODIC, *broadcasts.PERIODIC, *surveys.PERIODIC]


def run(services, burst: bool = False, horizon_s: float = 0) -> int:
    """Burst: run what is due and queued (back-offs due within `horizon_s` too), then exit."""
    worker = SimpleWorker([services.queue], connection=services.redis)
    if burst:
        scheduler.run_due(services, PERIODIC, force=True)
        _enqueue_due_scheduled(services, horizon_s)
        worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
        return 0
    scheduler.start_thread(services, PERIODIC, services.settings.scheduler_interval_s)
    worker.work(with_scheduler=True, logging_level="INFO")
    return 0


def _enqueue_due_scheduled(services, horizon_s: float = 0) -> None:
    """Move back-off retries whose time has come onto the queue (RQ's scheduler does this when long-running)."""
    registry = ScheduledJobRegistry(queue=services.queue)
    for job_id in registry.get_jobs_to_schedule(datetime.now(UTC).timestamp() + horizon_s):
        job = services.queue.fetch_job(job_id)
        if job is not None:
            services.queue.enqueue_job(job)
            registry.remove(job)
