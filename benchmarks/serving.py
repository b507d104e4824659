"""Online predict over HTTP: lakegate's route vs a bare Starlette floor vs ``mlflow models serve``.

    uv run python benchmarks/serving.py [--seconds 10] [--connections 16] [--rounds 3] [--no-mlflow]
                                        [--baseline-src DIR] [--no-processes] [--only NAME,...] [--recording]

1. Builds a project under ``benchmarks/.data/serving/`` through the real ``lakegate`` command:
   ``init``, a churn pipeline (fill_nulls -> one_hot -> date_parts -> LightGBM, 100 trees,
   13 features; the same model as ``serving_core.py``), ``ingest`` of 1,500 customers (the
   quality gate accepts the first version), a ``worker`` and ``lakegate run churn --wait``
   (trained, registered, champion), and a viewer token.
2. Starts, each as one process with uvicorn + uvloop + httptools on 127.0.0.1 (what
   ``lakegate up`` runs for the web server):
   - ``lakegate``: ``lakegate_server.asgi:application``, i.e. ``POST /api/v1/models/churn/predict``
     with a bearer token, through the Starlette route mounted in front of Django, with the
     access log on (the default: one JSON line per request in ``logs/access.jsonl``);
   - ``lakegate-nolog``: the same with ``web.access_log: false``, measured in the same
     interleaved rounds: the access log's cost, as req/s and as CPU-seconds per request;
   - ``lakegate-2p`` (unless ``--no-processes``): ``lakegate up --workers 0`` with
     ``web.processes: 2`` (two uvicorn processes sharing the port; the scheduler beside),
     access log on;
   - ``floor``: ``benchmarks/_serving_floor.py``, a bare Starlette endpoint calling the same
     ``Predictor.predict`` (no auth, no registry, no cache);
   - ``baseline`` (with ``--baseline-src DIR``): the same as ``lakegate``, with another
     checkout's ``src/`` first on ``PYTHONPATH`` (``git archive <commit> src | tar -x -C DIR``),
     so a change is measured against the code before it in the same interleaved rounds;
   - ``mlflow``: ``mlflow models serve --env-manager local`` of the same LightGBM booster,
     installed with ``uv run --with mlflow`` (not in the lock) when that works; it is sent
     the already encoded 13-feature row (``dataframe_split``), i.e. less work than the others.
   - with ``--recording``: ``no_record`` (the same server with ``monitoring.record_predictions``
     off) and ``record_all`` (every request recorded: ``monitoring.record_rate`` 1e9), so the
     cost of recording online predictions is measured against the same code without it;
   each round also reads the server process's CPU time (``/proc/<pid>/stat``), reported as
   CPU-microseconds per request (steadier than latency on a shared machine).
3. Drives single-row predicts with ``wrk`` (keep-alive, ``--connections`` connections, one
   thread: on 2 cores the load generator needs the other core), ``--rounds`` rounds of
   ``--seconds`` seconds per server, interleaved, after a warm-up; reports requests/s and
   wrk's p50/p99 latency per round and their medians, and the CPU-seconds the server's
   processes used per request in each round (``psutil``, the process and its children).

Writes ``benchmarks/results/serving.json``. Targets: lakegate p99 < 10 ms, >= 1,000 req/s,
not slower than the peer; the access log costs < 5 %; with 2 processes at 8 connections,
>= 10,000 req/s and p99 < 5 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from serving_core import customers, pipeline  # noqa: E402 - the same model as the core benchmark

DATA = HERE / ".data" / "serving"
RESULTS = HERE / "results" / "serving.json"
LAKEGATE = [sys.executable, "-m", "lakegate_server.cli"]
UVICORN = ["-m", "uvicorn", "--loop", "uvloop", "--no-access-log", "--lifespan", "off"]
# `lakegate up` serves with httptools behind its header limits (lakegate_server.serving.server).
LAKEGATE_HTTP = ["--http", "lakegate_server.serving.server:LimitedHttpProtocol"]
PLAIN_HTTP = ["--http", "httptools"]
RECORD = {
    "customer_id": 7,
    "age": 41,
    "income": 52000.0,
    "city": "nice",
    "plan": "basic",
    "tenure_months": 3,
    "tickets": 4,
    "signup_date": "2022-05-01",
}
TARGETS = {
    "p99_ms": 10.0,
    "rps": 1000.0,
    "access_log_cost": 0.05,
    "two_processes_rps": 10_000.0,
    "two_processes_p99_ms": 5.0,
}


def run(args: list[str], env: dict[str, str], *, cwd: Path | None = None) -> str:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])}... failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing listens on port {port} after {timeout} s")


def prepare(trees: int) -> dict[str, Any]:
    """A project with a trained churn champion, made through the lakegate command."""
    project = DATA / "project"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEGATE_")}
    env["LAKEGATE_PROJECT_DIR"] = str(project)
    run([*LAKEGATE, "init", str(project)], env)
    config = yaml.safe_load((project / "lakegate.yaml").read_text())
    config["pipelines"] = pipeline(trees)["pipelines"]
    config["pipelines"]["churn"]["model"]["positive_class"] = True  # the lake reads yes/no as booleans
    (project / "lakegate.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    customers().write_csv(project / "customers.csv")
    ingested = json.loads(
        run([*LAKEGATE, "ingest", str(project / "customers.csv"), "--dataset", "customers", "--json"], env)
    )
    assert ingested["results"][0]["status"] == "accepted", ingested
    with (project / "worker.out").open("wb") as log:
        worker = subprocess.Popen([*LAKEGATE, "worker"], env=env, stdout=log, stderr=log)
    try:
        trained = json.loads(run([*LAKEGATE, "run", "churn", "--wait", "--json"], env))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    assert trained["status"] == "succeeded", trained["last_error"]
    version = json.loads(run([*LAKEGATE, "models", "show", "churn", "--version", "1", "--json"], env))
    token = json.loads(run([*LAKEGATE, "token", "create", "--role", "viewer", "--json"], env))["token"]
    return {
        "project": project,
        "env": env,
        "token": token,
        # Artifact paths are relative to the state folder (.lakegate/) in current projects.
        "model_dir": next(
            (
                p
                for p in (
                    project / ".lakegate" / version["artifact_path"],
                    project / version["artifact_path"],
                )
                if (p / "model.json").is_file()
            ),
            project / version["artifact_path"],
        ),
        "sha256": version["sha256"],
        "metrics": version["metrics"],
    }


def encoded_row(model_dir: Path, sha256: str) -> tuple[list[str], list[float]]:
    """The 13 model features of RECORD after the stored steps (what MLflow is sent)."""
    from lakegate.models import load_model

    predictor = load_model(model_dir, sha256)
    row = predictor._matrix_from_records([RECORD])[0]  # the encoded row, for the peer
    return predictor.feature_names, [float(v) for v in row]


def mlflow_command() -> list[str]:
    import lightgbm

    return [
        "uv",
        "run",
        "--no-project",
        "--python",
        f"{sys.version_info.major}.{sys.version_info.minor}",
        "--with",
        "mlflow",
        "--with",
        f"lightgbm=={lightgbm.__version__}",
    ]


def prepare_mlflow(model_dir: Path) -> tuple[Path | None, str]:
    """Save the booster as an MLflow model; None and the reason when MLflow does not install."""
    target = DATA / "mlflow-model"
    shutil.rmtree(target, ignore_errors=True)
    script = (
        "import sys, lightgbm, mlflow, mlflow.lightgbm; "
        "mlflow.lightgbm.save_model(lightgbm.Booster(model_file=sys.argv[1]), sys.argv[2]); "
        "print(mlflow.__version__)"
    )
    try:
        done = subprocess.run(
            [*mlflow_command(), "python", "-c", script, str(model_dir / "model.lgb.txt"), str(target)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"uv run --with mlflow failed: {exc}"
    if done.returncode != 0:
        return None, f"uv run --with mlflow failed: {done.stderr.strip()[-500:]}"
    return target, done.stdout.strip().splitlines()[-1]


def wrk(url: str, body: bytes, headers: dict[str, str], seconds: float, connections: int) -> dict[str, Any]:
    script = DATA / "post.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body.decode())}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    script.write_text("\n".join(lines) + "\n")
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script), url]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    return parse_wrk(out)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(out: str) -> dict[str, Any]:
    percentiles = {
        int(p): _ms(v) for p, v in re.findall(r"^\s+(\d+)%\s+([\d.]+(?:us|ms|s))\s*$", out, re.MULTILINE)
    }
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": round(rps, 1),
        "p50_ms": round(percentiles[50], 3),
        "p90_ms": round(percentiles[90], 3),
        "p99_ms": round(percentiles[99], 3),
        "requests": requests,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else "",
    }


def check(url: str, body: bytes, headers: dict[str, str]) -> Any:
    import httpx

    began = time.perf_counter()
    response = httpx.post(url, content=body, headers=headers, timeout=180)
    response.raise_for_status()
    return {"first_request_ms": round((time.perf_counter() - began) * 1000, 1), "body": response.json()}


class Servers:
    """The servers under test, each its own process group (``uv run`` and MLflow fork children)."""

    def __init__(self) -> None:
        self.info: dict[str, dict[str, Any]] = {}
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str], **info: Any) -> None:
        port = free_port()
        cmd = [part.replace("{port}", str(port)) for part in cmd]
        with (DATA / f"{name}.out").open("wb") as log:
            proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, cwd=DATA, start_new_session=True)
        self.procs.append(proc)
        info["pid"] = proc.pid
        wait_port(port, proc)
        info["url"] = info["url"].replace("{port}", str(port))
        info["pid"] = proc.pid
        self.info[name] = info

    def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)


def start_servers(
    servers: Servers,
    ready: dict[str, Any],
    *,
    mlflow: bool,
    baseline_src: Path | None = None,
    processes: bool = True,
    only: set[str] | None = None,
    recording: bool = False,
) -> str:
    """lakegate's route, the floor and (when it installs) MLflow; returns what MLflow did."""
    record = json.dumps(RECORD).encode()
    env = {**ready["env"], "OMP_NUM_THREADS": "1"}
    listen = ["--host", "127.0.0.1", "--port", "{port}"]
    predict = {
        "url": "http://127.0.0.1:{port}/api/v1/models/churn/predict",
        "body": record,
        "headers": {"Content-Type": "application/json", "Authorization": f"Bearer {ready['token']}"},
    }
    wanted = (lambda name: name in only) if only else (lambda name: True)
    lean = [sys.executable, *UVICORN, *LAKEGATE_HTTP, *listen, "lakegate_server.asgi:application"]
    if wanted("lakegate"):
        servers.start("lakegate", lean, {**env, "LAKEGATE_WEB__ACCESS_LOG": "true"}, **predict)
    if wanted("lakegate-nolog"):
        servers.start("lakegate-nolog", lean, {**env, "LAKEGATE_WEB__ACCESS_LOG": "false"}, **predict)
    if processes and wanted("lakegate-2p"):
        servers.start(
            "lakegate-2p",
            [*LAKEGATE, "up", "--workers", "0", "--port", "{port}"],
            {**env, "LAKEGATE_WEB__PROCESSES": "2", "LAKEGATE_WEB__ACCESS_LOG": "true"},
            **predict,
        )
    if recording:  # predictions recorded (issue 19): off, and every request recorded
        for name, extra in (
            ("no_record", {"LAKEGATE_MONITORING__RECORD_PREDICTIONS": "false"}),
            ("record_all", {"LAKEGATE_MONITORING__RECORD_RATE": "1000000000"}),
        ):
            servers.start(name, lean, {**env, **extra}, **predict)
    if baseline_src is not None and wanted("baseline"):
        servers.start(
            "baseline",
            [sys.executable, *UVICORN, *PLAIN_HTTP, *listen, "lakegate_server.asgi:application"],
            {**env, "PYTHONPATH": str(baseline_src.resolve())},
            **predict,
        )
    if not wanted("floor"):
        return "skipped (--only)"
    servers.start(
        "floor",
        [sys.executable, *UVICORN, *PLAIN_HTTP, *listen, "--app-dir", str(HERE), "_serving_floor:app"],
        {**env, "MODEL_DIR": str(ready["model_dir"]), "MODEL_SHA256": ready["sha256"]},
        url="http://127.0.0.1:{port}/predict",
        body=record,
        headers={"Content-Type": "application/json"},
    )
    if not mlflow or not wanted("mlflow"):
        return "skipped (--no-mlflow)"
    print("installing MLflow with `uv run --with mlflow` (outside the lock) ...", flush=True)
    model, note = prepare_mlflow(ready["model_dir"])
    if model is None:
        return note
    names, row = encoded_row(ready["model_dir"], ready["sha256"])
    servers.start(
        "mlflow",
        [*mlflow_command(), "mlflow", "models", "serve", "-m", str(model), "--env-manager", "local", *listen],
        {**os.environ, "OMP_NUM_THREADS": "1"},
        url="http://127.0.0.1:{port}/invocations",
        body=json.dumps({"dataframe_split": {"columns": names, "data": [row]}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    return f"mlflow {note}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its live children (the web processes of ``up``)."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def measure(servers: Servers, args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    for server in servers.info.values():
        wrk(server["url"], server["body"], server["headers"], 2, args.connections)  # warm-up
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in servers.info}
    for index in range(args.rounds):
        for name, server in servers.info.items():
            before = cpu_seconds(server["pid"])
            result = wrk(server["url"], server["body"], server["headers"], args.seconds, args.connections)
            used = cpu_seconds(server["pid"]) - before
            result["cpu_us_per_request"] = round(used / max(result["requests"], 1) * 1e6, 2)
            result["load_average_1m"] = round(os.getloadavg()[0], 2)
            rounds[name].append(result)
            print(
                f"round {index + 1} {name:14s} {result['rps']:9.1f} req/s  p50 {result['p50_ms']:7.3f} ms  "
                f"p99 {result['p99_ms']:8.3f} ms  cpu {result['cpu_us_per_request']:7.1f} us/req  "
                f"non-2xx {result['non_2xx']}  load {result['load_average_1m']}",
                flush=True,
            )
    return rounds


def summarize(rounds: dict[str, list[dict[str, Any]]]) -> tuple[dict[str, Any], dict[str, Any]]:
    summary = {
        name: {
            "rps": round(statistics.median(r["rps"] for r in results), 1),
            "p50_ms": round(statistics.median(r["p50_ms"] for r in results), 3),
            "p99_ms": round(statistics.median(r["p99_ms"] for r in results), 3),
            "cpu_us_per_request": round(statistics.median(r["cpu_us_per_request"] for r in results), 2),
            "non_2xx": sum(r["non_2xx"] for r in results),
            "rounds": results,
        }
        for name, results in rounds.items()
    }
    verdict: dict[str, Any] = {}
    ours = summary.get("lakegate")
    peer = summary.get("mlflow") or summary.get("floor")
    if ours is not None:
        verdict["p99_under_10ms"] = ours["p99_ms"] < TARGETS["p99_ms"]
        verdict["at_least_1000_rps"] = ours["rps"] >= TARGETS["rps"]
    if ours is not None and peer is not None:
        verdict["peer"] = "mlflow" if "mlflow" in summary else "floor"
        verdict["not_slower_than_peer"] = ours["rps"] >= peer["rps"] and ours["p99_ms"] <= peer["p99_ms"]
    if ours is not None and "floor" in summary:
        verdict["share_of_floor_rps"] = round(ours["rps"] / summary["floor"]["rps"], 3)
    if ours is not None and "no_record" in summary:
        off = summary["no_record"]
        for name in ("lakegate", "record_all"):
            verdict[f"{name}_p50_vs_no_record"] = round(summary[name]["p50_ms"] / off["p50_ms"], 3)
            verdict[f"{name}_p99_vs_no_record"] = round(summary[name]["p99_ms"] / off["p99_ms"], 3)
            verdict[f"{name}_cpu_vs_no_record"] = round(
                summary[name]["cpu_us_per_request"] / off["cpu_us_per_request"], 3
            )
    if ours is not None and "baseline" in summary:
        verdict["rps_vs_baseline"] = round(ours["rps"] / summary["baseline"]["rps"], 3)
        verdict["p99_vs_baseline"] = round(ours["p99_ms"] / summary["baseline"]["p99_ms"], 3)
    if ours is not None and "lakegate-nolog" in summary:
        # Paired rounds (log on, log off, one after the other): the median of each round's ratio.
        on, off = rounds["lakegate"], rounds["lakegate-nolog"]
        pairs = list(zip(on, off, strict=True))
        cpu = statistics.median(a["cpu_us_per_request"] / b["cpu_us_per_request"] for a, b in pairs)
        rps = statistics.median(b["rps"] / a["rps"] for a, b in pairs)
        verdict["access_log_cpu_per_request_ratio"] = round(cpu, 3)
        verdict["access_log_rps_ratio_off_over_on"] = round(rps, 3)
        verdict["access_log_cost_under_5pct"] = cpu - 1 < TARGETS["access_log_cost"]
    two = summary.get("lakegate-2p")
    if two is not None:
        verdict["two_processes_at_least_10000_rps"] = two["rps"] >= TARGETS["two_processes_rps"]
        verdict["two_processes_p99_under_5ms"] = two["p99_ms"] < TARGETS["two_processes_p99_ms"]
    for name, values in summary.items():
        print(
            f"{name:14s} median {values['rps']:9.1f} req/s  p50 {values['p50_ms']:.3f} ms  "
            f"p99 {values['p99_ms']:.3f} ms  cpu {values['cpu_us_per_request']:.1f} us/req"
        )
    print(f"verdict: {verdict}")
    return summary, verdict


def versions() -> dict[str, str]:
    import lightgbm
    import polars as pl
    import starlette
    import uvicorn

    return {
        "lightgbm": lightgbm.__version__,
        "polars": pl.__version__,
        "starlette": starlette.__version__,
        "uvicorn": uvicorn.__version__,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--baseline-src", type=Path, default=None, help="Also serve another checkout's src/.")
    parser.add_argument("--no-processes", action="store_true", help="Skip the 2-process `lakegate up` row.")
    parser.add_argument("--only", default="", help="Comma-separated servers to run (default: all).")
    parser.add_argument(
        "--recording",
        action="store_true",
        help="Also serve with prediction recording off and with every request recorded.",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")

    load_before = os.getloadavg()
    print("preparing a project and training the champion through `lakegate` ...", flush=True)
    ready = prepare(args.trees)
    print(f"champion churn v1: {ready['metrics']}", flush=True)
    servers = Servers()
    try:
        mlflow_note = start_servers(
            servers,
            ready,
            mlflow=not args.no_mlflow,
            baseline_src=args.baseline_src,
            processes=not args.no_processes,
            only={n.strip() for n in args.only.split(",") if n.strip()} or None,
            recording=args.recording,
        )
        answers = {name: check(s["url"], s["body"], s["headers"]) for name, s in servers.info.items()}
        print(f"answers: {json.dumps(answers)}", flush=True)
        rounds = measure(servers, args)
    finally:
        servers.stop()
    summary, verdict = summarize(rounds)
    results = {
        "benchmark": "serving",
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "versions": versions(),
        },
        "setup": {
            "load_generator": "wrk -t1 (keep-alive), single-row POST",
            "connections": args.connections,
            "seconds_per_round": args.seconds,
            "rounds": args.rounds,
            "server": "one uvicorn process, uvloop + httptools, OMP_NUM_THREADS=1, 127.0.0.1 "
            "(lakegate-2p: `lakegate up --workers 0`, web.processes 2)",
            "cpu": "CPU-seconds (user + system) of the server's processes per request, psutil",
            "model": {"trees": args.trees, "features": 13, "metrics": ready["metrics"]},
            "mlflow": mlflow_note,
            "baseline_src": str(args.baseline_src) if args.baseline_src else None,
        },
        "answers": answers,
        "results": summary,
        "targets": TARGETS,
        "verdict": verdict,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
