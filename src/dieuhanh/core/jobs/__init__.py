"""Background jobs whose state every process shares through the database (docs/jobs.md)."""

from dieuhanh.core.jobs.describe import describe_error
from dieuhanh.core.jobs.models import JobRecord
from dieuhanh.core.jobs.scheduler import Clock, Job, Scheduler, process_identity

__all__ = ["Clock", "Job", "JobRecord", "Scheduler", "describe_error", "process_identity"]
