"""Background jobs: state in the database, one run per interval across schedulers, leases that
expire, errors a person can read, and the API answering the same from any process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from dieuhanh.audit.models import AuditEntry
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.db.engine import make_engine
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.jobs import Job, JobRecord, Scheduler, describe_error, store
from dieuhanh.core.runtime import Runtime
from tests.core.job_runner import JOB_NAME

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Counter:
    def __init__(self, result: str = "done") -> None:
        self.calls = 0
        self.result = result

    def __call__(self) -> str:
        self.calls += 1
        return f"{self.result} {self.calls}"


def failing(exc: Exception) -> Callable[[], object]:
    def run() -> object:
        raise exc

    return run


def record(runtime: Runtime, name: str) -> JobRecord:
    with runtime.sessions() as session:
        found = store.get(session, name)
    assert found is not None, f"no row for job {name}"
    return found


def jobs_by_name(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, object]]:
    response = client.get("/api/v1/jobs", headers=headers)
    assert response.status_code == 200, response.text
    return {job["name"]: job for job in response.json()}


def test_state_is_in_the_database_and_read_by_a_process_without_scheduler(
    runtime: Runtime, client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    clock = FakeClock()
    counting = Job("counting", 60, Counter("3 cameras probed"), description="counts")
    broken = Job("broken", 30, failing(InvalidInput("The source file is missing.")))
    scheduler = Scheduler([counting, broken], runtime.sessions, clock=clock, process="w1:1:aa")
    scheduler.register()
    assert scheduler.run_due() == ["counting", "broken"]

    # `client` is an app built with no scheduler, like a `serve` replica.
    listed = jobs_by_name(client, auth("operator"))
    assert set(listed) >= {"counting", "broken"}
    ok, bad = listed["counting"], listed["broken"]
    assert ok["description"] == "counts" and ok["interval_seconds"] == 60
    assert ok["last_result"] == "3 cameras probed 1" and ok["last_error"] is None
    assert ok["last_run_by"] == "w1:1:aa" and ok["runs"] == 1 and ok["running"] is False
    assert ok["last_success_at"] == ok["last_finished_at"] is not None
    assert ok["last_duration_s"] is not None and ok["failures_in_a_row"] == 0
    assert datetime.fromisoformat(str(ok["next_run_at"])) == clock.now + timedelta(seconds=60)
    assert bad["last_error"] == "The source file is missing." and bad["failures_in_a_row"] == 1
    assert bad["last_success_at"] is None and bad["last_error_at"] is not None
    # Only those who may read everything see the installation's jobs.
    assert client.get("/api/v1/jobs", headers=auth("commune")).status_code == 403


def test_two_schedulers_run_a_periodic_job_once_per_interval(
    database_url: str, make_runtime: Callable[..., Runtime]
) -> None:
    clock = FakeClock()
    counter = Counter()
    # Two engines, as two worker processes would have, sharing the one job's code.
    workers = [
        Scheduler([Job("shared", 10, counter)], make_runtime(database_url).sessions, clock=clock)
        for _ in range(2)
    ]
    for worker in workers:
        worker.register()
    ran_by: list[str] = []
    for interval in range(6):
        clock.advance(10 if interval else 0)
        for worker in (*workers, *reversed(workers)):
            if worker.run_due():
                ran_by.append(worker.process)
    assert counter.calls == 6 == len(ran_by)
    assert not workers[0].run_due() and not workers[1].run_due()  # next run not due yet
    runtime = make_runtime(database_url)
    assert record(runtime, "shared").runs == 6
    assert record(runtime, "shared").last_run_by == ran_by[-1]


def contend(
    runtime: Runtime,
    now: datetime,
    barrier: threading.Barrier,
    process: str,
    wins: list[store.Claim],
) -> None:
    with runtime.sessions() as session:
        barrier.wait()
        won = store.claim(session, "raced", process, now)
        session.commit()
    if won is not None:
        wins.append(won)


def test_racing_claims_have_one_winner(runtime: Runtime) -> None:
    clock = FakeClock()
    Scheduler([Job("raced", 5, Counter())], runtime.sessions, clock=clock).register()
    contenders = 6
    for round_number in range(3):
        barrier = threading.Barrier(contenders, timeout=WAIT_SECONDS)
        wins: list[store.Claim] = []

        threads = [
            threading.Thread(target=contend, args=(runtime, clock(), barrier, f"p{i}", wins))
            for i in range(contenders)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_SECONDS)
        assert len(wins) == 1, f"round {round_number}: {wins}"
        with runtime.sessions() as session:
            outcome = store.Outcome(clock(), 0.1, clock() + timedelta(seconds=5), result="ok")
            assert store.finish(session, wins[0], outcome)
            session.commit()
        clock.advance(5)


def test_a_run_in_progress_is_not_started_again(
    runtime: Runtime, client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    release, started = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        assert release.wait(WAIT_SECONDS)
        return "finished"

    job = Job("slow", 1, slow)
    first = Scheduler([job], runtime.sessions, process="first:1:aa")
    second = Scheduler([job], runtime.sessions, process="second:2:bb")
    first.register()
    thread = threading.Thread(target=first.attempt, args=(job,))
    thread.start()
    try:
        assert started.wait(WAIT_SECONDS)
        assert not second.attempt(job)  # leased by the first
        shown = jobs_by_name(client, auth("admin"))["slow"]
        assert shown["running"] is True and shown["last_run_by"] == "first:1:aa"
        assert 0 < second.seconds_until_due(job) <= second.poll_seconds
    finally:
        release.set()
        thread.join(WAIT_SECONDS)
    shown = jobs_by_name(client, auth("admin"))["slow"]
    assert shown["running"] is False and shown["last_result"] == "finished"


def test_a_killed_workers_lease_expires_and_another_takes_over(runtime: Runtime) -> None:
    clock = FakeClock()
    counter = Counter()
    job = Job("batch", 20, counter)  # lease: max(60 s, 2 × 20 s)
    survivor = Scheduler([job], runtime.sessions, clock=clock, process="survivor:2:bb")
    survivor.register()
    # A worker claims the run and is killed before it records anything.
    with runtime.sessions() as session:
        dead = store.claim(session, "batch", "killed:1:aa", clock())
        session.commit()
    assert dead is not None

    clock.advance(59)
    assert not survivor.run_due() and counter.calls == 0  # the lease still holds
    clock.advance(1)
    assert survivor.run_due() == ["batch"] and counter.calls == 1
    row = record(runtime, "batch")
    assert row.last_run_by == "survivor:2:bb" and row.lease_until is None
    assert row.runs == 2 and row.failures_in_a_row == 0
    assert row.last_error is not None and row.last_error_at == clock.now
    assert (
        "killed:1:aa" in row.last_error and "did not finish within its 60 s lease" in row.last_error
    )

    # Had the killed worker only hung, its late result must not overwrite the survivor's.
    with runtime.sessions() as session:
        late = store.Outcome(clock(), 61.0, clock() + timedelta(seconds=20), result="late")
        assert not store.finish(session, dead, late)
        session.commit()
    assert record(runtime, "batch").last_result == "done 1"


def test_failures_back_off_doubling_up_to_the_limit(runtime: Runtime) -> None:
    clock = FakeClock()
    outcomes: list[Exception | None] = [RuntimeError("source down")] * 4 + [None]

    def flaky() -> str:
        failure = outcomes.pop(0)
        if failure is not None:
            raise failure
        return "back"

    scheduler = Scheduler(
        [Job("flaky", 10, flaky, max_backoff_seconds=100)], runtime.sessions, clock=clock
    )
    scheduler.register()
    waits = []
    for _ in range(5):
        assert scheduler.run_due() == ["flaky"]
        row = record(runtime, "flaky")
        assert row.next_run_at is not None
        waits.append((row.next_run_at - clock.now).total_seconds())
        clock.advance(waits[-1] - 1)
        assert scheduler.run_due() == []  # not before its time
        clock.advance(1)
    assert waits == [20, 40, 80, 100, 10]
    row = record(runtime, "flaky")
    assert row.failures_in_a_row == 0 and row.last_result == "back" and row.runs == 5
    assert row.last_error == "RuntimeError: source down"


def test_a_database_error_is_stored_without_sql_or_values(runtime: Runtime) -> None:
    clock = FakeClock()
    secret_value = "personal-data-123"

    def duplicate_insert() -> None:
        with runtime.sessions() as session:
            for _ in range(2):
                session.execute(
                    text(
                        "INSERT INTO app_meta (key, value, updated_at) "
                        "VALUES (:k, :v, CURRENT_TIMESTAMP)"
                    ),
                    {"k": secret_value, "v": secret_value},
                )
            session.commit()

    scheduler = Scheduler([Job("dup", 60, duplicate_insert)], runtime.sessions, clock=clock)
    scheduler.register()
    scheduler.run_due()
    error = record(runtime, "dup").last_error
    assert error is not None and error.startswith("database error: ")
    assert "unique" in error.lower()
    for leaked in ("INSERT", "[SQL", "parameters", secret_value, "sqlalche.me", "\n"):
        assert leaked not in error


def test_describe_error_on_real_driver_errors(runtime: Runtime) -> None:
    with runtime.sessions() as session, pytest.raises(IntegrityError) as integrity:
        session.execute(text("INSERT INTO jobs (name) VALUES ('x')"))
    message = describe_error(integrity.value)
    assert message.startswith("database error: ") and "jobs" in message.lower()
    assert "INSERT" not in message and "[SQL" not in message

    if runtime.engine.dialect.name == "sqlite":
        unreachable = "sqlite:////nonexistent-folder/x.db"
    else:  # a refused connection, with a password in the URL
        unreachable = "postgresql+psycopg://ioc:s3cret-pw@127.0.0.1:1/ioc?connect_timeout=5"
    engine = make_engine(unreachable)
    try:
        with pytest.raises(OperationalError) as operational, engine.connect():
            pass
    finally:
        engine.dispose()
    message = describe_error(operational.value)
    assert message.startswith("database error: ") and "s3cret-pw" not in message
    assert "[SQL" not in message and "\n" not in message
    assert len(message) > len("database error: ")


def test_describe_error_masks_passwords_and_keeps_plain_messages() -> None:
    leaked = RuntimeError("cannot reach postgresql://ioc:hunter22@db.local/ioc\nTraceback...")
    assert describe_error(leaked) == "RuntimeError: cannot reach postgresql://ioc:****@db.local/ioc"
    keyword = ConnectionError("connect failed: host=db user=ioc password=hunter22 port=5432")
    assert "hunter22" not in describe_error(keyword)
    assert describe_error(TimeoutError()) == "TimeoutError (no message)"
    assert describe_error(InvalidInput("Column 'code' is missing.")) == "Column 'code' is missing."
    assert len(describe_error(ValueError("x" * 2000))) == 500


def test_run_now_through_the_api_is_audited_and_picked_up(
    runtime: Runtime, client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    counter = Counter()
    scheduler = Scheduler([Job("hourly", 3600, counter)], runtime.sessions)
    scheduler.register()
    assert scheduler.run_due() == ["hourly"] and scheduler.run_due() == []

    assert client.post("/api/v1/jobs/hourly/run", headers=auth("viewer")).status_code == 403
    missing = client.post("/api/v1/jobs/nope/run", headers=auth("admin"))
    assert missing.status_code == 404 and "hourly" in missing.json()["error"]["message"]
    asked = client.post("/api/v1/jobs/hourly/run", headers=auth("admin"))
    assert asked.status_code == 200, asked.text
    assert asked.json()["run_requested_by"] == "admin"
    assert scheduler.run_due() == ["hourly"] and counter.calls == 2
    with runtime.sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "jobs", AuditEntry.actor == "admin")
        ).one()
    assert entry.entity_id == "hourly" and entry.action == "update"
    assert entry.after is not None and entry.after["run_requested_by"] == "admin"


def test_schedulers_starting_together_register_once(runtime: Runtime) -> None:
    jobs = [Job(f"job-{i}", 30, Counter()) for i in range(5)]
    barrier = threading.Barrier(4, timeout=WAIT_SECONDS)
    errors: list[BaseException] = []

    def start() -> None:
        scheduler = Scheduler(jobs, runtime.sessions)
        barrier.wait()
        try:
            scheduler.register()
        except BaseException as exc:  # collected: the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    assert errors == []
    with runtime.sessions() as session:
        names = [r.name for r in store.all_jobs(session) if r.name.startswith("job-")]
    assert names == [f"job-{i}" for i in range(5)]

    # A new definition (another release of the worker) updates the row and keeps its history.
    Scheduler(jobs[:1], runtime.sessions).run_due()
    changed = Job("job-0", 45, Counter(), description="now every 45 s", timeout_seconds=90)
    Scheduler([changed], runtime.sessions).register()
    row = record(runtime, "job-0")
    assert (row.interval_seconds, row.timeout_seconds, row.runs) == (45, 90, 1)
    assert row.description == "now every 45 s"


def test_job_definitions_are_checked() -> None:
    run = Counter()
    with pytest.raises(ValueError, match="share the name a"):
        Scheduler([Job("a", 1, run), Job("a", 2, run)], sessions=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1 to 60 characters"):
        Scheduler([Job("x" * 61, 1, run)], sessions=None)  # type: ignore[arg-type]
    assert Job("quick", 5, run).lease_seconds == 60
    assert Job("slow", 600, run).lease_seconds == 1200
    assert Job("bounded", 600, run, timeout_seconds=30).lease_seconds == 30


def start(command: list[str], log_path: Path, **settings: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIEUHANH_")}
    env |= settings | {"PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    # A file, not a pipe: a chatty child never blocks on a full pipe nobody reads.
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", *command], cwd=ROOT, env=env, stdout=log, stderr=log
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def wait_for_runs(
    client: TestClient, headers: dict[str, str], process: subprocess.Popen[bytes], names: set[str]
) -> dict[str, dict[str, object]]:
    """The listed jobs once each named one has run, within WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        listed = jobs_by_name(client, headers)
        if all(int(str(listed.get(name, {}).get("runs", 0))) >= 1 for name in names):
            return listed
        assert process.poll() is None, f"the worker process exited with {process.returncode}"
        assert time.monotonic() < deadline, f"no run of {names} within {WAIT_SECONDS} s: {listed}"
        time.sleep(0.2)


def test_a_serve_replica_lists_the_jobs_of_dieuhanh_worker(
    database_url: str, tmp_path: Path, client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    worker = start(
        ["dieuhanh", "worker"],
        tmp_path / "worker.log",
        DIEUHANH_DATABASE_URL=database_url,
        DIEUHANH_DATA_DIR=str(tmp_path),
    )
    try:
        listed = wait_for_runs(client, auth("admin"), worker, {"camera-health", "report-reminders"})
    finally:
        stop(worker)
    for name in ("camera-health", "report-reminders"):
        job = listed[name]
        assert f":{worker.pid}:" in str(job["last_run_by"]), job
        assert job["last_error"] is None and job["last_started_at"] is not None, job
        assert job["description"], job


@pytest.fixture
def runner(database_url: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = start(["tests.core.job_runner", database_url], tmp_path / "runner.log")
    try:
        yield process
    finally:
        stop(process)


def test_a_serve_process_lists_the_jobs_a_worker_process_ran(
    runner: subprocess.Popen[bytes], client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    job = wait_for_runs(client, auth("admin"), runner, {JOB_NAME})[JOB_NAME]
    assert job["last_result"] == f"alive in {runner.pid}"
    assert f":{runner.pid}:" in str(job["last_run_by"]) and job["description"] == "test runner"
    assert job["last_error"] is None and job["last_started_at"] is not None
    started = datetime.fromisoformat(str(job["last_started_at"]))
    assert started.tzinfo is not None and started <= datetime.now(UTC)


def test_a_lease_of_a_process_gone_from_this_host_is_taken_over_at_once(runtime: Runtime) -> None:
    """A worker killed and restarted on the same host need not wait for its old lease to run out:
    its pid no longer exists. (A lease of another host, or of a live process, still holds.)"""
    clock = FakeClock()
    counter = Counter()
    job = Job("batch", 20, counter)
    restarted = Scheduler([job], runtime.sessions, clock=clock, process="restarted:3:cc")
    restarted.register()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    dead_here = f"{socket.gethostname()}:{gone.stdout.strip()}:dd"
    with runtime.sessions() as session:
        assert store.claim(session, "batch", dead_here, clock()) is not None
        session.commit()
    assert store.holder_is_gone(dead_here)
    assert not store.holder_is_gone(f"{socket.gethostname()}:{os.getpid()}:ee")
    assert not store.holder_is_gone(f"another-host:{gone.stdout.strip()}:ff")
    assert restarted.run_due() == ["batch"] and counter.calls == 1
    row = record(runtime, "batch")
    assert "its process no longer exists" in (row.last_error or "") and dead_here in row.last_error
