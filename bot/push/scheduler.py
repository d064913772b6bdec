"""Periodic jobs (reminders, deadline checks): due ones run once across all workers."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    every_s: int
    run: Callable[[object], object]   # run(services)


def run_due(services, tasks: list[Periodic], force: bool = False) -> list[str]:
    """Run every task whose interval has passed; a Redis key makes it once per interval fleet-wide."""
    ran = []
    for task in tasks:
        key = f"sched:{task.name}"
        if force:
            services.redis.set(key, "1", ex=task.every_s)
        elif not services.redis.set(key, "1", nx=True, ex=task.every_s):
            continue
        try:
            task.run(services)
            ran.append(task.name)
        except Exception:
            log.exception("periodic task %s failed", task.name)
    return ran


def start_thread(services, tasks: list[Periodic], interval_s: int) -> threading.Thread:
    """The scheduler of a long-running worker: looks for due tasks every interval."""
    def loop():
        while True:
            run_due(services, tasks)
            time.sleep(interval_s)
    thread = threading.Thread(target=loop, name="scheduler", daemon=True)
    thread.start()
    return thread
