"""The stream health monitor: probes due cameras in rounds, with bounded concurrency, and keeps
their state, its history and the events other capabilities react to.

A round claims the cameras whose next probe is due (a lease, so that several workers never probe
the same camera), probes them on a thread pool — FFmpeg releases the GIL while it waits on the
network, so a hundred hanging cameras cost a hundred idle threads, not a hundred cores — and
writes the results in batches. Dead cameras are probed less and less often (doubling, capped);
a picture check (one decoded keyframe) runs on its own, slower cadence.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dieuhanh.cameras.models import Camera, CameraStateChange, CameraStatus, Reason, State
from dieuhanh.cameras.picture import is_black, same_picture
from dieuhanh.cameras.probe import ProbeOptions, ProbeResult, Resolver, probe, resolve
from dieuhanh.cameras.service import open_url
from dieuhanh.cameras.topics import STATE_CHANGED
from dieuhanh.core.config import MonitorSettings
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events import publish
from dieuhanh.core.network import IPAddress, NetworkPolicy
from dieuhanh.core.runtime import Runtime

log = logging.getLogger(__name__)
TOPIC_STATE_CHANGED = STATE_CHANGED
BATCH = 50  # results written per transaction
FIRST_CONTACT_READ_SECONDS = 0.5


@dataclass(frozen=True)
class Task:
    camera_id: int
    url: str
    secrets: tuple[str, ...]
    picture: bool
    measure_gop: bool = False  # read on until a second keyframe
    first_contact: bool = False  # never probed: a shorter read, the verdict first


@dataclass
class RoundReport:
    probed: int = 0
    live: int = 0
    dead: int = 0
    changed: int = 0
    seconds: float = 0.0
    claim_seconds: float = 0.0  # choosing the due cameras (database)
    reasons: dict[str, int] = field(default_factory=dict)


class HealthMonitor:
    def __init__(self, runtime: Runtime, clock: Callable[[], datetime] = utcnow) -> None:
        self.runtime = runtime
        self.policy: MonitorSettings = runtime.settings.cameras.monitor
        # Checked at each probe, on the addresses the host resolves to then (issue #10).
        self.networks = NetworkPolicy.of_settings(runtime.settings.cameras)
        self.clock = clock

    # -- rounds ---------------------------------------------------------------------------

    def run_round(self, limit: int | None = None) -> RoundReport:
        started = time.monotonic()
        tasks = self._claim(limit)
        report = RoundReport(claim_seconds=round(time.monotonic() - started, 3))
        if not tasks:
            return report
        pending: list[tuple[Task, ProbeResult]] = []
        workers = min(self.policy.concurrency, len(tasks))
        resolver = RoundResolver()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe") as pool:
            futures = {pool.submit(self._probe, task, resolver): task for task in tasks}
            for future in as_completed(futures):
                pending.append((futures[future], future.result()))
                if len(pending) >= BATCH:
                    self._record(pending, report)
                    pending = []
        self._record(pending, report)
        report.seconds = time.monotonic() - started
        return report

    def _probe(self, task: Task, resolver: Resolver = resolve) -> ProbeResult:
        read = self.policy.read_seconds
        if task.first_contact:
            read = min(read, FIRST_CONTACT_READ_SECONDS)
        options = ProbeOptions(
            timeout=self.policy.timeout_seconds,
            read_seconds=read,
            picture=task.picture,
            keyframe_wait=self.policy.timeout_seconds if task.measure_gop else 0.0,
        )
        try:
            return probe(task.url, options, task.secrets, resolver, policy=self.networks)
        except Exception as exc:  # a bug in a probe must not end the round
            log.exception("probe of camera %s failed unexpectedly", task.camera_id)
            return ProbeResult(live=False, reason=Reason.PROTOCOL_ERROR, detail=type(exc).__name__)

    def _claim(self, limit: int | None) -> list[Task]:
        now = self.clock()
        lease = timedelta(seconds=self.policy.timeout_seconds * 3 + self.policy.read_seconds + 60)
        with self.runtime.sessions() as session:
            statement = (
                select(Camera)
                .join(CameraStatus, CameraStatus.camera_id == Camera.id)
                .where(
                    Camera.enabled.is_(True),
                    or_(CameraStatus.next_probe_at.is_(None), CameraStatus.next_probe_at <= now),
                    or_(CameraStatus.lease_until.is_(None), CameraStatus.lease_until <= now),
                )
                .order_by(CameraStatus.next_probe_at)
                .limit(limit or 100_000)
            )
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                statement = statement.with_for_update(of=CameraStatus, skip_locked=True)
            timed: list[tuple[float, Task]] = []
            for camera in session.scalars(statement).unique():
                assert camera.status is not None
                camera.status.lease_until = now + lease
                url, secrets = open_url(camera, self.runtime.credentials)
                picture = self._picture_due(camera.status, now)
                # A first probe says live or dead, and why, reading only half a second of
                # packets; the finer measurements (a whole GOP for the keyframe interval) come
                # with the next probes. A burst of new cameras — a province importing its list —
                # is then classified as fast as its hanging cameras allow.
                first = camera.status.checked_at is None
                task = Task(camera.id, url, tuple(secrets), picture, picture and not first, first)
                expected = camera.status.probe_seconds
                timed.append((self.policy.timeout_seconds if expected is None else expected, task))
            session.commit()
        # Longest first (cameras that hung last time, or never probed): with a bounded pool the
        # round then ends soonest (the classic longest-processing-time rule).
        timed.sort(key=lambda item: -item[0])
        return [task for _, task in timed]

    def _picture_due(self, status: CameraStatus, now: datetime) -> bool:
        if status.picture_checked_at is None:
            return True
        due = status.picture_checked_at + timedelta(seconds=self.policy.picture_interval_seconds)
        return due <= now

    def _record(self, results: list[tuple[Task, ProbeResult]], report: RoundReport) -> None:
        if not results:
            return
        with self.runtime.sessions() as session:
            for task, result in results:
                camera = session.get(Camera, task.camera_id)
                if camera is None:
                    continue  # deleted while being probed
                changed = apply_result(session, camera, result, self.clock(), self.policy)
                report.probed += 1
                report.changed += int(changed)
                state = camera.status.state if camera.status else State.UNKNOWN.value
                report.live += state == State.LIVE.value
                report.dead += state == State.DEAD.value
                if result.reason:
                    report.reasons[result.reason.value] = (
                        report.reasons.get(result.reason.value, 0) + 1
                    )
            session.commit()

    # -- one camera, now --------------------------------------------------------------------

    def probe_now(self, session: Session, camera: Camera, thorough: bool = True) -> ProbeResult:
        """An operator asked: probe, and believe the result at once. ``thorough`` adds the
        picture check and the keyframe interval, which wait for the camera's keyframes; a
        viewer who only needs the codec is not kept waiting for them."""
        url, secrets = open_url(camera, self.runtime.credentials)
        task = Task(camera.id, url, tuple(secrets), picture=thorough, measure_gop=thorough)
        result = self._probe(task)
        apply_result(session, camera, result, self.clock(), self.policy, confirmed=True)
        return result


class RoundResolver:
    """Resolves each host name once per round: the sixteen channels of one recorder share it,
    and a burst of identical lookups can overwhelm a small resolver (seen: 5 s time-outs)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hosts: dict[str, Future[list[IPAddress]]] = {}

    def __call__(self, host: str) -> list[IPAddress]:
        with self._lock:
            future = self._hosts.get(host)
            owner = future is None
            if future is None:
                future = self._hosts[host] = Future()
        if owner:
            try:
                future.set_result(resolve(host))
            except socket.gaierror as exc:
                future.set_exception(exc)
        return future.result()


def apply_result(
    session: Session,
    camera: Camera,
    result: ProbeResult,
    now: datetime,
    policy: MonitorSettings,
    confirmed: bool = False,
) -> bool:
    """Fold one probe into the camera's status; True when its state or reason changed."""
    status = camera.status or CameraStatus(camera_id=camera.id)
    camera.status = status
    status.checked_at = now
    status.lease_until = None
    status.probe_seconds = round(result.seconds, 3)
    verdict = _picture_verdict(status, result, now, policy) if result.live else None
    live = result.live and verdict is None
    reason = None if live else (verdict or result.reason or Reason.PROTOCOL_ERROR)
    detail = None if live else (_picture_detail(verdict, status, policy) or result.detail)
    _copy_measurements(status, result)
    if live:
        status.consecutive_failures = 0
        status.last_live_at = now
    else:
        status.consecutive_failures += 1
    status.next_probe_at = now + _next_wait(status.consecutive_failures, policy)
    new_state = State.LIVE.value if live else State.DEAD.value
    # A live camera failing to answer once may be a network blip: it is dead after
    # `confirm_failures` in a row. A picture verdict is evidence enough (frozen has its own delay).
    if (
        not live
        and verdict is None
        and status.state == State.LIVE.value
        and not confirmed
        and status.consecutive_failures < policy.confirm_failures
    ):
        status.next_probe_at = now + timedelta(seconds=min(15, policy.interval_seconds))
        return False
    reason_value = reason.value if reason else None
    if new_state == status.state and reason_value == status.reason:
        status.detail = detail
        return False
    previous = status.state
    if new_state != previous:
        status.since = now
    status.state, status.reason, status.detail = new_state, reason_value, detail
    session.add(
        CameraStateChange(
            camera_id=camera.id, at=now, state=new_state, reason=reason_value, detail=detail
        )
    )
    publish(
        session,
        TOPIC_STATE_CHANGED,
        {
            "camera_id": camera.id,
            "name": camera.name,
            "unit_code": camera.unit.code,
            "state": new_state,
            "previous_state": previous,
            "reason": reason_value,
            "detail": detail,
            "at": now.isoformat(),
        },
        unit_id=camera.unit_id,
    )
    return True


def _picture_verdict(
    status: CameraStatus, result: ProbeResult, now: datetime, policy: MonitorSettings
) -> Reason | None:
    picture = result.picture
    if picture is None:
        # No check this time: a frozen or black picture stays so until the next check says not.
        if status.reason in (Reason.FROZEN.value, Reason.BLACK.value):
            return Reason(status.reason)
        return None
    previous_signature, previous_check = status.picture_signature, status.picture_checked_at
    status.picture_signature, status.picture_checked_at = picture.signature, now
    status.luma_mean = picture.luma_mean
    if is_black(picture, policy.black_luma_max):
        status.picture_same_since = None
        return Reason.BLACK
    if same_picture(previous_signature, picture.signature):
        status.picture_same_since = status.picture_same_since or previous_check
        assert status.picture_same_since is not None
        if now - status.picture_same_since >= timedelta(seconds=policy.frozen_after_seconds):
            return Reason.FROZEN
    else:
        status.picture_same_since = None
    return None


def _picture_detail(
    verdict: Reason | None, status: CameraStatus, policy: MonitorSettings
) -> str | None:
    if verdict is Reason.BLACK:
        return f"black picture (mean brightness {status.luma_mean} of 255)"
    if verdict is Reason.FROZEN and status.picture_same_since is not None:
        return f"the same picture since {status.picture_same_since.isoformat(timespec='seconds')}"
    return None


def _copy_measurements(status: CameraStatus, result: ProbeResult) -> None:
    if result.codec is None and not result.live:
        return  # nothing was learned about the stream; keep what is known
    status.codec, status.profile = result.codec, result.profile
    status.width, status.height, status.fps = result.width, result.height, result.fps
    status.bitrate_kbps, status.audio_codec = result.bitrate_kbps, result.audio_codec
    if result.keyframe_interval_s is not None:
        status.keyframe_interval_s = result.keyframe_interval_s


def _next_wait(failures: int, policy: MonitorSettings) -> timedelta:
    if failures == 0:
        return timedelta(seconds=policy.interval_seconds)
    wait = policy.interval_seconds * 2 ** min(failures - 1, 16)
    return timedelta(seconds=min(wait, policy.max_backoff_seconds))
