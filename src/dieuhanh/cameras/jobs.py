"""The cameras capability's background work."""

from __future__ import annotations

from dieuhanh.cameras.monitor import HealthMonitor
from dieuhanh.core.jobs import Job
from dieuhanh.core.runtime import Runtime

# How often the monitor looks for cameras whose probe is due (each has its own schedule).
ROUND_EVERY_SECONDS = 5


def jobs(runtime: Runtime) -> list[Job]:
    if not runtime.settings.cameras.monitor.enabled:
        return []
    monitor = HealthMonitor(runtime)

    def probe_due_cameras() -> str:
        report = monitor.run_round()
        return f"{report.probed} probed, {report.changed} changed in {report.seconds:.1f} s"

    return [
        Job(
            "camera-health",
            ROUND_EVERY_SECONDS,
            probe_due_cameras,
            max_backoff_seconds=120,
            description="Probes the cameras whose check is due and records changes of state.",
        )
    ]
