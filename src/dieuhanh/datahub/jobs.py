"""The data hub's background work: scheduled runs and freshness, and the payloads' retention."""

from __future__ import annotations

from dieuhanh.core.jobs import Job
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.service import refresh_figures, sync_round, trim_payloads

# A run may take long (a first sync of a large source); past this the job's lease lapses and
# another worker may start a round (a source still running is skipped by its own lease).
SYNC_TIMEOUT_SECONDS = 30 * 60
RECONCILE_EVERY_SECONDS = 15 * 60


def jobs(runtime: Runtime) -> list[Job]:
    settings = runtime.settings.datahub
    return [
        Job(
            "datahub.sync",
            settings.sync_every_seconds,
            lambda: str(sync_round(runtime)),
            max_backoff_seconds=300,
            timeout_seconds=SYNC_TIMEOUT_SECONDS,
            description="Runs the data sources whose schedule is due; marks sources late, "
            "failing or live and publishes source.state_changed.",
        ),
        Job(
            "datahub.reconcile",
            RECONCILE_EVERY_SECONDS,
            lambda: refresh_figures(runtime),
            description="Computes every dataset aggregate into values, then every "
            "reconciliation, recording new and cleared mismatches.",
        ),
        Job(
            "datahub.payloads.trim",
            24 * 3600,
            lambda: f"{trim_payloads(runtime)} payload(s) past retention deleted",
            description="Deletes raw payloads older than datahub.payload_retention_days.",
        ),
    ]
