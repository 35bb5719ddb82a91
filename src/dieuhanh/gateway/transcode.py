"""Transcoding a camera (H.265 → H.264, or a smaller tile) in a supervised worker process.

A transcode costs a core: it runs in its own process (``transcode_worker``), so it uses another
core than the gateway's event loop and a crash costs only that camera. The supervisor gives it its
own process group, restarts it with a doubling wait, keeps its stderr (passwords scrubbed) and
kills it with the gateway (``PR_SET_PDEATHSIG``). The camera's URL reaches it on stdin only.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Any

from dieuhanh.core.config import PRIVATE_NETWORKS, GatewaySettings
from dieuhanh.gateway.fmp4 import InitSegment, SegmentReader
from dieuhanh.gateway.hub import Hub
from dieuhanh.gateway.pull import UrlProvider
from dieuhanh.gateway.supervisor import ProcessState, RestartPolicy, SupervisedProcess
from dieuhanh.gateway.transcode_worker import ExitCode

log = logging.getLogger(__name__)

# What a worker's exit says, as the reason viewers are shown (the player knows these words).
EXIT_REASONS = {
    ExitCode.CANNOT_CONNECT: "unreachable",
    ExitCode.UNAUTHORIZED: "unauthorized",
    ExitCode.STREAM_ENDED: "stalled",
    ExitCode.ENCODER_UNAVAILABLE: "encoder_unavailable",
    ExitCode.BAD_STREAM: "no_video",
    ExitCode.NETWORK_REFUSED: "network_refused",
}
# The words above that are not the health monitor's own (cameras.models.Reason).
TRANSCODE_REASONS = ("unreachable", "encoder_unavailable", "transcoder_failed")
# Exit codes no restart can fix: the configuration or the build must change.
GIVE_UP = frozenset({int(ExitCode.USAGE), int(ExitCode.ENCODER_UNAVAILABLE)})


def worker_argv(
    settings: GatewaySettings,
    max_width: int | None,
    timeout: float,
    networks: Sequence[str] = PRIVATE_NETWORKS,
) -> list[str]:
    argv = [sys.executable, "-m", "dieuhanh.gateway.transcode_worker",
            "--preset", settings.transcode_preset,
            "--audio", "aac" if settings.audio == "pass" else "drop",
            "--timeout", f"{timeout:g}",
            "--allowed-networks", ",".join(networks)]  # fmt: skip
    if max_width:
        argv += ["--max-width", str(max_width)]
    return argv


class TranscodePull:
    def __init__(
        self,
        hub: Hub,
        urls: UrlProvider,
        loop: asyncio.AbstractEventLoop,
        settings: GatewaySettings,
        max_width: int | None = None,
        timeout: float = 5.0,
        networks: Sequence[str] = PRIVATE_NETWORKS,
    ) -> None:
        self.hub = hub
        self.urls = urls
        self.loop = loop
        self.argv = worker_argv(settings, max_width, timeout, networks)
        self.process: SupervisedProcess | None = None
        self._reader = SegmentReader()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self.stopping: asyncio.Task[None] | None = None  # awaited by Gateway.shutdown

    def start(self) -> None:
        # The supervisor must fork from the event-loop thread (PDEATHSIG follows that thread).
        self._task = self.loop.create_task(self._start())

    async def _start(self) -> None:
        try:
            url, secrets = await asyncio.to_thread(self.urls)
        except Exception as exc:  # the camera was deleted, or its key is gone
            self.hub.fail(f"unreachable: {exc}")
            return
        if self._stopped:
            return
        self.process = SupervisedProcess(
            self.argv,
            on_output=self._output,
            on_restart=self._restarting,
            on_failed=self._failed,
            secret_input=url,
            secrets=secrets,
            name=f"transcode {self.hub.key}",
            policy=RestartPolicy(give_up_on=GIVE_UP),
        )
        await self.process.start()

    def _output(self, chunk: bytes) -> None:
        for item in self._reader.feed(chunk):
            if isinstance(item, InitSegment):
                self.hub.publish_init(item)
            else:
                self.hub.publish(item)

    def _restarting(self) -> None:
        self._reader = SegmentReader()  # the next process starts with its own init segment
        if self.process is not None:
            self.hub.fail(self._reason(self.process.state))

    def _failed(self, state: ProcessState) -> None:
        self.hub.fail(self._reason(state))
        log.warning("transcode %s gave up: %s", self.hub.key, state.last_error)

    @staticmethod
    def _reason(state: ProcessState) -> str:
        code = state.last_exit_code
        reason = EXIT_REASONS.get(ExitCode(code), "transcoder_failed") if code in set(
            map(int, ExitCode)) else "transcoder_failed"  # fmt: skip
        detail = state.stderr_tail[-1] if state.stderr_tail else (state.last_error or "")
        return f"{reason}: {detail}"[:200]

    def stop(self) -> None:
        self._stopped = True
        self.stopping = self.loop.create_task(self._stop())

    async def _stop(self) -> None:
        if self._task is not None:
            await self._task  # a start under way finishes first, then is stopped
        if self.process is not None:
            await self.process.stop()

    @property
    def state(self) -> Any:
        return self.process.state if self.process is not None else None

    @property
    def alive(self) -> bool:
        """Starting, or running under its supervisor (restarts included) — not given up."""
        if self._stopped:
            return False
        if self.process is None:
            return self._task is not None and not self._task.done()
        return not self.process.state.failed
