"""The Celery app. Configuration lives in Django settings under CELERY_*."""

import os
import socket

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("gatehouse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Write a heartbeat key to Redis from every worker, for /healthz.

    Runs on the worker's own timer, so it needs neither beat nor a free pool slot:
    a worker that is alive but busy still reports in.
    """

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_ref = None

    def start(self, worker):
        from django.conf import settings

        from portal.health import worker_heartbeat_write

        hostname = worker.hostname or socket.gethostname()
        interval = settings.WORKER_HEARTBEAT_INTERVAL
        worker_heartbeat_write(hostname)
        self.timer_ref = worker.timer.call_repeatedly(
            interval, worker_heartbeat_write, (hostname,), priority=10
        )

    def stop(self, worker):
        if self.timer_ref is not None:
            self.timer_ref.cancel()


app.steps["worker"].add(WorkerHeartbeat)
