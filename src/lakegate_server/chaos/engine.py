"""The chaos engine: drive a real ``lakegate up`` in a scratch project, SIGKILL its processes, check.

One scratch project (a temporary folder, ``lakegate init``; with ``backend="postgres"`` a
fresh database, created here and dropped at the end) serves every trial. The service runs
as it would for a user: ``lakegate up --workers 1`` (web, one worker, the scheduler), with
short leases so recovery is quick. Each trial does real work through the public surfaces
(inbox drops, uploads and stream pushes over HTTP with a token, training and other runs)
and kills one thing with SIGKILL, either at a step boundary (when a run's log reaches a
given line) or at a random moment:

- ``worker@ingest``: the worker while it ingests inbox drops (the predict route is polled
  throughout and must keep answering);
- ``worker@train``: the worker while it trains a model;
- ``worker@poison``: every worker that takes one run (it must fail after its retry limit);
- ``web@upload`` / ``web@stream``: the web process mid-upload / mid-stream-push;
- ``scheduler@reap``: the scheduler while it reaps the run of a killed worker;
- ``up@all``: ``lakegate up`` and all its children at once, mid-activity.

After each trial the service recovers by itself (the supervisor restarts a killed child;
the engine restarts a killed ``up``), and :func:`~.invariants.check_all` runs on what the
records say (:mod:`.probe`), until they hold or the settle time is over.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakegate_server.chaos.invariants import Sent, Snapshot, Violation, check_all

__all__ = ["KILL_POINTS", "ChaosReport", "chaos_run"]

LAKEGATE = [sys.executable, "-m", "lakegate_server.cli"]
KILL_POINTS = (
    "worker@ingest",
    "worker@train",
    "worker@poison",
    "web@upload",
    "web@stream",
    "scheduler@reap",
    "up@all",
)
STREAM = "chaos_stream"
INBOX = "chaos_inbox"
UPLOADS = "chaos_uploads"
TRAIN = "chaos_train"
MODEL = "chaos_model"
LEASE = 2.0
SETTLE_SECONDS = 45.0
PREDICT_RECORD = {"x1": 0.3, "x2": -1.2, "group": "a"}
# A pipeline that trains in about a second, manual trigger only (no training per ingest).
PIPELINE_YAML = f"""
datasets:
  {TRAIN}:
    target: label
pipelines:
  {MODEL}:
    inputs: [{TRAIN}]
    target: label
    steps:
      - one_hot: {{columns: [group]}}
    model:
      task: classification
      algorithm: logistic_regression
    metrics: [accuracy]
    promotion: {{floor: "accuracy >= 0.0"}}
    triggers: [manual]
    seed: 7
"""


@dataclass
class TrialResult:
    number: int
    point: str
    how: str  # "boundary:<log line>" or "random:<seconds>"
    killed: bool
    seconds: float
    violations: list[Violation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trial": self.number,
            "point": self.point,
            "how": self.how,
            "killed": self.killed,
            "seconds": round(self.seconds, 2),
            "violations": [v.to_dict() for v in self.violations],
        }


@dataclass
class ChaosReport:
    backend: str
    seed: int
    trials: list[TrialResult] = field(default_factory=list)
    files: int = 0
    stream_records: int = 0
    predict_answers: int = 0
    seconds: float = 0.0
    setup_error: str = ""

    @property
    def violations(self) -> list[Violation]:
        return [v for t in self.trials for v in t.violations]

    @property
    def ok(self) -> bool:
        return not self.setup_error and not self.violations

    def kills_by_point(self) -> dict[str, int]:
        counts = Counter(t.point for t in self.trials if t.killed)
        return {p: counts.get(p, 0) for p in KILL_POINTS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "seed": self.seed,
            "trials": len(self.trials),
            "kills": sum(1 for t in self.trials if t.killed),
            "kills_by_point": self.kills_by_point(),
            "violations": [v.to_dict() | {"trial": t.number} for t in self.trials for v in t.violations],
            "files": self.files,
            "stream_records": self.stream_records,
            "predict_answers": self.predict_answers,
            "seconds": round(self.seconds, 1),
            "setup_error": self.setup_error,
            "ok": self.ok,
            "per_trial": [t.to_dict() for t in self.trials],
        }


def _stop_with_parent() -> None:
    """In the child before exec: SIGTERM it when this process dies (Linux), so a killed
    `lakegate chaos` leaves no scratch `lakegate up` behind (its children follow it)."""
    import ctypes
    import ctypes.util

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _stamp() -> str:
    """UTC wall time (a request's start), to find it in the scratch project's logs."""
    return time.strftime("%H:%M:%S", time.gmtime())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """The scratch project and its ``lakegate up``, driven as a user would."""

    def __init__(self, root: Path, env: dict[str, str], database_url: str | None) -> None:
        self.root = root
        self.env = env
        self.database_url = database_url
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.up: subprocess.Popen[bytes] | None = None
        self.token = ""
        self.lives = 0

    # -- commands --------------------------------------------------------------------------
    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [*LAKEGATE, *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"lakegate {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
        return done

    def start(self) -> None:
        import httpx

        self.lives += 1
        log = (self.root / f"up-{self.lives}.log").open("ab")
        with log:
            self.up = subprocess.Popen(  # noqa: S603
                [*LAKEGATE, "up", "--port", str(self.port), "--workers", "1"],
                env=self.env,
                cwd=self.root,
                stdout=log,
                stderr=log,
                preexec_fn=_stop_with_parent,  # noqa: PLW1509 - a prctl call, no locks taken
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            if self.up.poll() is not None:
                raise RuntimeError(f"lakegate up exited {self.up.returncode} (see {log.name})")
            time.sleep(0.2)
        raise RuntimeError("lakegate up did not answer /healthz within 90 s")

    def children(self, role: str) -> list[Any]:
        import psutil

        if self.up is None:
            return []
        try:
            kids = psutil.Process(self.up.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        found = []
        for kid in kids:
            with contextlib.suppress(psutil.Error):
                if role in kid.cmdline():
                    found.append(kid)
        return found

    def wait_child(self, role: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if kids := self.children(role):
                return kids[0]
            time.sleep(0.1)
        raise RuntimeError(f"no {role} process under lakegate up after {timeout} s")

    def kill_child(self, role: str) -> bool:
        kids = self.children(role)
        for kid in kids:
            with contextlib.suppress(Exception):
                kid.send_signal(signal.SIGKILL)
        return bool(kids)

    def kill_up(self, *, everything: bool) -> None:
        """SIGKILL ``up`` (its children then stop by themselves), or it and all its children at once."""
        import psutil

        if self.up is None:
            return
        procs = [psutil.Process(self.up.pid)]
        with contextlib.suppress(psutil.Error):
            if everything:
                procs += procs[0].children(recursive=True)
        survivors = procs[1:] if not everything else []
        if not everything:
            with contextlib.suppress(psutil.Error):
                survivors = procs[0].children(recursive=True)
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGKILL)
        self.up.wait()
        psutil.wait_procs([p for p in survivors if p.is_running()], timeout=60)
        for proc in survivors:  # a child that did not stop on its parent's death within a minute
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGKILL)
        self.up = None

    def stop(self) -> None:
        if self.up is not None and self.up.poll() is None:
            self.up.send_signal(signal.SIGTERM)
            try:
                self.up.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill_up(everything=True)
        self.up = None

    # -- records (read-only SQL on the scratch project's own database) ---------------------
    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url, connect_timeout=10) as conn:
                return list(conn.execute(query, params).fetchall())
        with contextlib.closing(sqlite3.connect(self.root / ".lakegate" / "db.sqlite3", timeout=30)) as db:
            return db.execute(query.replace("%s", "?"), params).fetchall()

    def run_log(self, run_id: int) -> list[str]:
        rows = self.sql("SELECT entry FROM jobs_runlogline WHERE run_id = %s ORDER BY id", (run_id,))
        return [(r[0] if isinstance(r[0], dict) else json.loads(r[0])).get("msg", "") for r in rows]

    def run_status(self, run_id: int) -> str:
        rows = self.sql("SELECT status FROM jobs_run WHERE id = %s", (run_id,))
        return str(rows[0][0]) if rows else ""

    def latest_run(self, kind: str, after: int) -> int | None:
        rows = self.sql("SELECT MAX(id) FROM jobs_run WHERE kind = %s AND id > %s", (kind, after))
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def max_run(self) -> int:
        rows = self.sql("SELECT MAX(id) FROM jobs_run")
        return int(rows[0][0] or 0)

    def busy(self) -> bool:
        """Runs not finished, files still in the inbox or versions not gated yet."""
        open_runs = self.sql("SELECT COUNT(*) FROM jobs_run WHERE status IN ('queued', 'running')")[0][0]
        pending = self.sql("SELECT COUNT(*) FROM datasets_datasetversion WHERE status = 'pending'")[0][0]
        inbox = self.root / ".lakegate" / "inbox"
        dropped = (
            [p for p in inbox.rglob("*") if p.is_file() and not p.name.startswith(".")]
            if inbox.exists()
            else []
        )
        return bool(open_runs or pending or dropped)

    def probe(self, delta_from: dict[str, int]) -> Snapshot:
        args = json.dumps({"delta_from": delta_from, "stream": STREAM})
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "lakegate_server.chaos.probe", args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the probe failed: {done.stderr[-2000:]}")
        return Snapshot.from_dict(json.loads(done.stdout))


# -- what the trials send ------------------------------------------------------------------------


def _csv(name: str, rows: int, rng: random.Random) -> bytes:
    lines = ["file,row,value"]
    lines += [f"{name},{i},{rng.uniform(-100, 100):.4f}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _bad_file(rng: random.Random) -> bytes:
    """Bytes no reader takes (a CSV reader refuses NUL-riddled binary), so the file is quarantined."""
    return b"\x00\x01PK\x03\x04" + bytes(rng.getrandbits(8) for _ in range(256))


class Driver:
    """One chaos session: the service, the manifest of what was sent, the trials."""

    def __init__(self, service: Service, rng: random.Random, say: Callable[[str], None]) -> None:
        self.svc = service
        self.rng = rng
        self.say = say
        self.sent = Sent(stream_dataset=STREAM)
        self.next_id = 0
        self.delta_from: dict[str, int] = {}
        self.headers: dict[str, str] = {}

    # -- setup -------------------------------------------------------------------------------
    def setup(self) -> None:
        svc = self.svc
        with (svc.root / "lakegate.yaml").open("a") as handle:
            handle.write(PIPELINE_YAML)
        svc.token = json.loads(svc.cli("token", "create", "--role", "editor", "--json").stdout)["token"]
        self.headers = {"Authorization": f"Bearer {svc.token}"}
        self.train_batch(400)
        svc.start()
        svc.cli("run", MODEL, "--wait", "--timeout", "180", "--json", timeout=240)

    def train_batch(self, rows: int) -> None:
        """A new batch of the training dataset (``lakegate ingest``): the next training run has new inputs."""
        import numpy as np
        import polars as pl

        gen = np.random.default_rng(self.rng.randrange(2**32))
        x1, x2 = gen.normal(size=rows), gen.normal(size=rows)
        group = gen.choice(["a", "b"], size=rows)
        frame = pl.DataFrame({"x1": x1, "x2": x2, "group": group, "label": (x1 + x2 > 0)})
        path = self.svc.root / f"train-{uuid.uuid4().hex[:8]}.csv"
        frame.write_csv(path)
        self.svc.cli("ingest", str(path), "--dataset", TRAIN, "--json")
        path.unlink()

    # -- actions -----------------------------------------------------------------------------
    def _name(self, stem: str, ext: str = "csv") -> str:
        return f"{stem}-{uuid.uuid4().hex[:10]}.{ext}"

    def drop(self, *, bad: bool = False) -> str:
        """A file dropped into the inbox (written beside, then renamed in: what users are told to do)."""
        name = self._name("drop", "bin" if bad else "csv")
        rows = 0 if bad else self.rng.randint(5, 400)
        body = _bad_file(self.rng) if bad else _csv(name, rows, self.rng)
        folder = self.svc.root / ".lakegate" / "inbox" / INBOX
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f".{name}.part").write_bytes(body)
        (folder / f".{name}.part").rename(folder / name)
        self.sent.files[name] = (INBOX, rows, hashlib.sha256(body).hexdigest(), bad)
        return name

    def upload(self, *, rows: int, pace: float = 0.0) -> bool:
        """An upload over HTTP; recorded in the manifest only when the service acknowledged it (202)."""
        import httpx

        name = self._name("upload")
        body = _csv(name, rows, self.rng)
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        whole = head + body + f"\r\n--{boundary}--\r\n".encode()

        def chunks() -> Iterator[bytes]:
            step = 64 * 1024
            for i in range(0, len(whole), step):
                yield whole[i : i + step]
                if pace:
                    time.sleep(pace)

        headers = {**self.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        try:
            answer = httpx.post(
                f"{self.svc.base}/api/v1/datasets/{UPLOADS}/files",
                content=chunks(),
                headers=headers,
                timeout=60,
            )
        except httpx.HTTPError:
            return False
        if answer.status_code == 202:
            self.sent.files[name] = (UPLOADS, rows, hashlib.sha256(body).hexdigest(), False)
            return True
        return False

    def push(self, n: int) -> bool:
        import httpx

        ids = list(range(self.next_id, self.next_id + n))
        self.next_id += n
        records = [{"id": i, "value": i % 97} for i in ids]
        try:
            answer = httpx.post(
                f"{self.svc.base}/api/v1/streams/{STREAM}/records",
                json=records,
                headers=self.headers,
                timeout=30,
            )
        except httpx.HTTPError:
            return False
        if answer.status_code == 202 and answer.json().get("accepted") == n:
            self.sent.stream_acked.extend(ids)
            return True
        return False

    @contextlib.contextmanager
    def predicting(self) -> Iterator[None]:
        """Poll the predict route while the body runs; every failed answer is recorded."""
        import httpx

        stop = threading.Event()

        def poll() -> None:
            with httpx.Client(timeout=30) as client:  # a loaded machine is slow, not down
                while not stop.is_set():
                    sent_at = _stamp()
                    try:
                        answer = client.post(
                            f"{self.svc.base}/api/v1/models/{MODEL}/predict",
                            json=PREDICT_RECORD,
                            headers=self.headers,
                        )
                        if answer.status_code == 200:
                            self.sent.predict_answers += 1
                        else:
                            self.sent.predict_failures.append(
                                f"sent {sent_at}: {answer.status_code} {answer.text[:200]}"
                            )
                    except httpx.HTTPError as exc:
                        self.sent.predict_failures.append(f"sent {sent_at}: {type(exc).__name__}: {exc}")
                    stop.wait(0.1)

        # Warm first (not counted): a web process just restarted loads the champion on its
        # first request, which on a loaded machine took over 30 s. What is checked is that the
        # route keeps answering while the worker dies, not the web's own cold start.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.post(
                    f"{self.svc.base}/api/v1/models/{MODEL}/predict",
                    json=PREDICT_RECORD,
                    headers=self.headers,
                    timeout=180,
                )
                if answer.status_code == 200:
                    break
            time.sleep(0.5)
        else:
            self.sent.predict_failures.append(f"sent {_stamp()}: no answer within 180 s before the kill")
        thread = threading.Thread(target=poll, name="predict-poll", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=15)

    def wait_log(self, run_id: int, line: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if line in self.svc.run_log(run_id):
                    return True
            time.sleep(0.02)
        return False

    def wait_run(self, kind: str, after: int, timeout: float = 20) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if (run_id := self.svc.latest_run(kind, after)) is not None:
                    return run_id
            time.sleep(0.05)
        return None

    # -- trials ------------------------------------------------------------------------------
    def trial(self, number: int, point: str) -> TrialResult:
        started = time.monotonic()
        how, killed = getattr(self, "_" + point.replace("@", "_"))()
        violations = self.settle()
        return TrialResult(number, point, how, killed, time.monotonic() - started, violations)

    def _kill_at(self, run_id: int | None, boundaries: list[str], role: str) -> tuple[str, bool]:
        """Kill ``role`` when ``run_id``'s log reaches a boundary, or at a random moment."""
        if run_id is not None and self.rng.random() < 0.5:
            line = self.rng.choice(boundaries)
            reached = self.wait_log(run_id, line, timeout=20)
            how = f"boundary:{line}" if reached else f"boundary:{line} (not reached)"
        else:
            delay = round(self.rng.uniform(0.0, 4.0), 2)
            time.sleep(delay)
            how = f"random:{delay}s"
        return how, self.svc.kill_child(role)

    def _worker_ingest(self) -> tuple[str, bool]:
        first = self.svc.max_run()
        with self.predicting():
            for _ in range(self.rng.randint(1, 3)):
                self.drop(bad=self.rng.random() < 0.2)
            run_id = self.wait_run("ingest", first)
            how, killed = self._kill_at(
                run_id, ["attempt started", "ingest started", "version created", "ingest finished"], "worker"
            )
            self.svc.wait_child("worker")
            time.sleep(1.0)  # the predict route keeps answering while the new worker starts
        return how, killed

    def _worker_train(self) -> tuple[str, bool]:
        self.train_batch(self.rng.randint(50, 200))
        first = self.svc.max_run()
        with self.predicting():
            self.svc.cli("run", MODEL, "--json")
            run_id = self.wait_run("train", first)
            how, killed = self._kill_at(run_id, ["attempt started", "attempt succeeded"], "worker")
            self.svc.wait_child("worker")
        return how, killed

    def _worker_poison(self) -> tuple[str, bool]:
        """A run that takes every worker down with it: it must fail after ``max_attempts``."""
        done = self.svc.cli("runs", "start", "selfcheck", "--param", "seconds=600", "--json")
        run_id = int(json.loads(done.stdout)["id"])
        self.sent.poison_runs.append(run_id)
        kills = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.svc.run_status(run_id) not in {
            "failed",
            "succeeded",
            "cancelled",
        }:
            if self.svc.run_status(run_id) == "running" and self.wait_log(
                run_id, "attempt started", timeout=1
            ):
                attempts = self.svc.sql("SELECT attempts FROM jobs_run WHERE id = %s", (run_id,))[0][0]
                if self.wait_log(run_id, "selfcheck started", timeout=10) and self.svc.kill_child("worker"):
                    kills += 1
                    # wait for the reaper to take the attempt back before looking again
                    while time.monotonic() < deadline:
                        row = self.svc.sql("SELECT status, attempts FROM jobs_run WHERE id = %s", (run_id,))[
                            0
                        ]
                        if row[0] != "running" or row[1] != attempts:
                            break
                        time.sleep(0.2)
            time.sleep(0.1)
        return f"every attempt ({kills} kills)", kills > 0

    def _web_upload(self) -> tuple[str, bool]:
        delay = round(self.rng.uniform(0.1, 2.0), 2)
        results: list[bool] = []
        uploader = threading.Thread(
            target=lambda: results.append(self.upload(rows=self.rng.randint(20000, 60000), pace=0.1)),
            daemon=True,
        )
        uploader.start()
        time.sleep(delay)
        self.svc.kill_up(everything=False)
        uploader.join(timeout=60)
        self.svc.start()
        self.upload(rows=50)  # and the restarted service takes uploads again
        return f"random:{delay}s ({'acknowledged' if any(results) else 'cut off'})", True

    def _web_stream(self) -> tuple[str, bool]:
        delay = round(self.rng.uniform(0.1, 2.0), 2)
        stop = threading.Event()

        def pushing() -> None:
            while not stop.is_set() and self.push(self.rng.randint(1, 200)):
                pass

        pusher = threading.Thread(target=pushing, daemon=True)
        pusher.start()
        time.sleep(delay)
        self.svc.kill_up(everything=False)
        stop.set()
        pusher.join(timeout=60)
        self.svc.start()
        self.push(10)
        return f"random:{delay}s", True

    def _scheduler_reap(self) -> tuple[str, bool]:
        first = self.svc.max_run()
        self.drop()
        done = self.svc.cli("runs", "start", "selfcheck", "--param", "seconds=3", "--json")
        run_id = int(json.loads(done.stdout)["id"])
        self.wait_log(run_id, "selfcheck started", timeout=30)
        self.svc.kill_child("worker")
        delay = round(self.rng.uniform(LEASE * 0.75, LEASE * 1.75), 2)
        time.sleep(delay)  # the lease runs out about now: the reaper is at work
        killed = self.svc.kill_child("scheduler")
        self.svc.wait_child("scheduler")
        del first
        return f"random:{delay}s after the worker's kill", killed

    def _up_all(self) -> tuple[str, bool]:
        delay = round(self.rng.uniform(0.2, 3.0), 2)
        for _ in range(self.rng.randint(1, 2)):
            self.drop()
        self.push(50)  # at least one acknowledged batch before the kill
        stop = threading.Event()

        def busy() -> None:
            while not stop.is_set() and self.push(50):
                pass

        pusher = threading.Thread(target=busy, daemon=True)
        pusher.start()
        if self.rng.random() < 0.5:
            threading.Thread(target=lambda: self.upload(rows=5000, pace=0.01), daemon=True).start()
        time.sleep(delay)
        self.svc.kill_up(everything=True)
        stop.set()
        pusher.join(timeout=30)
        self.svc.start()
        return f"random:{delay}s", True

    # -- checks ------------------------------------------------------------------------------
    def settle(self) -> list[Violation]:
        """Wait until the service is quiet and the invariants hold, or the settle time is over."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if not self.svc.busy():
                    break
            time.sleep(0.3)
        while True:
            snap = self.svc.probe(self.delta_from)
            violations = check_all(self.sent, snap)
            if not violations or time.monotonic() >= deadline:
                break
            time.sleep(1.0)
        for name, info in snap.delta.items():
            if info.get("latest") is not None:
                self.delta_from[name] = int(info["latest"])  # the newest version is read again next time
        self.sent.predict_failures.clear()  # each trial's availability counts on its own
        return violations


# -- the session ---------------------------------------------------------------------------------


def _database(base_url: str) -> tuple[str, Callable[[], None]]:
    import psycopg

    name = f"lakegate_chaos_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(base_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base_url.rsplit("/", 1)[0] + f"/{name}", drop


def chaos_run(
    *,
    trials: int,
    seed: int,
    backend: str,
    database_url: str | None = None,
    redis_url: str | None = None,
    keep: bool = False,
    points: list[str] | None = None,
    say: Callable[[str], None] = lambda _line: None,
) -> ChaosReport:
    """Run ``trials`` trials against a scratch project; the report holds every violation found.

    The kill points (all of :data:`KILL_POINTS`, or ``points``) are taken in a shuffled order,
    each once per round.
    """
    rng = random.Random(seed)  # noqa: S311 - kill moments, not secrets
    report = ChaosReport(backend=backend, seed=seed)
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="lakegate-chaos-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEGATE_")}
    env.update(
        LAKEGATE_PROJECT_DIR=str(root),
        LAKEGATE_QUEUE_NAME=f"chaos-{uuid.uuid4().hex[:10]}",
        LAKEGATE_RUNS__HEARTBEAT_SECONDS=str(LEASE / 4),
        LAKEGATE_RUNS__LEASE_SECONDS=str(LEASE),
        LAKEGATE_RUNS__REAP_INTERVAL_SECONDS="0.5",
        LAKEGATE_RUNS__QUEUED_TIMEOUT_SECONDS="15",
        LAKEGATE_STREAMS__FLUSH_SECONDS="0.5",
        PYTHONUNBUFFERED="1",
    )
    drop_database: Callable[[], None] | None = None
    database: str | None = None
    service: Service | None = None
    try:
        if backend == "postgres":
            database, drop_database = _database(
                database_url or "postgresql://postgres@127.0.0.1:5432/postgres"
            )
            env["LAKEGATE_DATABASE_URL"] = database
            if redis_url:
                env["LAKEGATE_REDIS_URL"] = redis_url
        service = Service(root, env, database)
        service.cli("init", str(root))
        driver = Driver(service, rng, say)
        say(f"scratch project {root} ({backend})")
        driver.setup()
        points = list(points or KILL_POINTS)
        for number in range(1, trials + 1):
            if (number - 1) % len(points) == 0:
                rng.shuffle(points)
            point = points[(number - 1) % len(points)]
            result = driver.trial(number, point)
            report.trials.append(result)
            say(
                f"trial {number}/{trials} {point} {result.how}: "
                + (f"{len(result.violations)} violation(s)" if result.violations else "ok")
                + f" ({result.seconds:.1f} s)"
            )
            for violation in result.violations:
                say(f"  {violation.invariant}: {violation.detail}")
        report.files = len(driver.sent.files)
        report.stream_records = len(driver.sent.stream_acked)
        report.predict_answers = driver.sent.predict_answers
    except Exception as exc:  # noqa: BLE001 - the session itself broke: reported, never a traceback
        report.setup_error = f"{type(exc).__name__}: {exc}"
    finally:
        if service is not None:
            with contextlib.suppress(Exception):
                service.stop()
        if drop_database is not None:
            with contextlib.suppress(Exception):
                drop_database()
        if keep:
            say(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
        report.seconds = time.monotonic() - started
    return report
