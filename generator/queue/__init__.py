"""Scale out on Celery and Redis: workers on many machines, batches and jobs sent to them.

``contractgen worker --broker URL`` runs the workers (:mod:`.worker`);
``contractgen batch --broker URL`` sends a round's contracts to them (:mod:`.remote`);
:mod:`.app` is the Celery application both share: the queue, the task, and how a job
survives a worker's death.
"""

from .app import ATTEMPTS_MAX, QUEUE, TASK_MAKE, VISIBILITY_TIMEOUT, celery_app
from .jobs import IdempotencyConflict, JobStore, default_jobs_dir, sign
from .remote import JOB_TIMEOUT, Sender, run_remote_batch
from .worker import WorkerConfig, check_broker, run_worker

__all__ = [
    "ATTEMPTS_MAX",
    "JOB_TIMEOUT",
    "QUEUE",
    "TASK_MAKE",
    "VISIBILITY_TIMEOUT",
    "IdempotencyConflict",
    "JobStore",
    "Sender",
    "WorkerConfig",
    "celery_app",
    "check_broker",
    "default_jobs_dir",
    "run_remote_batch",
    "run_worker",
    "sign",
]
