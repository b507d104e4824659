"""Oversized request bodies against a running ``lakegate up``: how much is read, how much memory grows.

    uv run python benchmarks/request_limits.py [--mib 300] [--baseline-src DIR]

For each server (this checkout, and with ``--baseline-src`` another checkout's ``src/`` put
first on ``PYTHONPATH``, e.g. ``git archive <commit> src | tar -x -C DIR``), in a fresh
project made by that version's ``lakegate init``, with ``streams.max_body_bytes`` 16 MiB and
``web.max_upload_bytes`` 16 MiB:

1. ``POST /api/v1/streams/events/records`` with ``--mib`` MiB of chunked body (no
   Content-Length), 1 MiB chunks, stopping when the server answers;
2. ``POST /api/v1/datasets/big/files``: the same as a chunked multipart upload.

Reports per push: the status, MiB sent before the answer, seconds to the answer, the web
process's RSS before, at its peak during the push (sampled every 10 ms), and after, and the
bytes left in ``.lakegate/tmp`` and ``.lakegate/uploads`` afterwards. Writes
``benchmarks/results/request_limits.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "request_limits"
RESULTS = HERE / "results" / "request_limits.json"
MIB = 1024**2
LIMIT = 16 * MIB


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def lakegate(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "lakegate_server.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"lakegate {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


class Peak(threading.Thread):
    """The highest RSS of ``proc`` while running, sampled every 10 ms."""

    def __init__(self, proc: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.peak = proc.memory_info().rss
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            self.peak = max(self.peak, self.proc.memory_info().rss)


def push(port: int, path: str, headers: dict[str, str], total: int, head: bytes = b"") -> dict[str, Any]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    lines = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
    lines += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(lines.encode())
    if head:
        sock.sendall(f"{len(head):x}\r\n".encode() + head + b"\r\n")
    piece = f"{MIB:x}\r\n".encode() + b"7" * MIB + b"\r\n"
    sent = 0
    began = time.perf_counter()
    try:
        while sent < total:
            if select.select([sock], [], [], 0)[0]:
                break  # the server answered: stop sending
            sock.sendall(piece)
            sent += MIB
        else:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    reply = b""
    sock.settimeout(120)
    try:
        while chunk := sock.recv(65536):
            reply += chunk
            if b"\r\n\r\n" in reply and len(reply) > 200:
                break
    except (TimeoutError, ConnectionResetError):
        pass
    seconds = time.perf_counter() - began
    sock.close()
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1") else None
    return {"status": status, "mib_sent": round(sent / MIB, 1), "seconds": round(seconds, 2)}


def measure(name: str, src: Path | None, total: int) -> dict[str, Any]:
    project = DATA / name
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEGATE_")}
    env.update(
        LAKEGATE_PROJECT_DIR=str(project),
        LAKEGATE_STREAMS__MAX_BODY_BYTES=str(LIMIT),
        LAKEGATE_WEB__MAX_UPLOAD_BYTES=str(LIMIT),
    )
    if src is not None:
        env["PYTHONPATH"] = str(src)
    lakegate(env, "init", str(project))
    token = json.loads(lakegate(env, "token", "create", "--role", "editor", "--json"))["token"]
    port = free_port()
    with (project / "up.out").open("wb") as log:
        up = subprocess.Popen(
            [sys.executable, "-m", "lakegate_server.cli", "up", "--port", str(port), "--workers", "0"],
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{name}: the server did not come up")
            time.sleep(0.3)
        auth = {"Authorization": f"Bearer {token}"}
        warm = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/streams/events/records", json=[{"id": 1}], headers=auth
        )
        assert warm.status_code == 202, warm.text
        web = psutil.Process(up.pid)
        boundary = "lakegate-bench"
        part = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
        cases = {
            "stream_push": ("/api/v1/streams/events/records", {"Content-Type": "application/json"}, b""),
            "upload": (
                "/api/v1/datasets/big/files",
                {"Content-Type": f"multipart/form-data; boundary={boundary}"},
                part.encode(),
            ),
        }
        results: dict[str, Any] = {}
        for case, (path, headers, head) in cases.items():
            time.sleep(1)
            before = web.memory_info().rss
            peak = Peak(web)
            peak.start()
            outcome = push(port, path, {**auth, **headers}, total, head)
            time.sleep(1)
            peak.done.set()
            peak.join()
            after = web.memory_info().rss
            outcome |= {
                "rss_before_mib": round(before / MIB),
                "rss_peak_mib": round(peak.peak / MIB),
                "rss_after_mib": round(after / MIB),
                "left_in_tmp_bytes": folder_bytes(project / ".lakegate" / "tmp"),
                "left_in_uploads_bytes": folder_bytes(project / ".lakegate" / "uploads"),
            }
            print(f"{name:9s} {case:12s} {outcome}", flush=True)
            results[case] = outcome
        return results
    finally:
        up.terminate()
        try:
            up.wait(timeout=30)
        except subprocess.TimeoutExpired:
            up.kill()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mib", type=int, default=300)
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    if args.baseline_src is not None:
        results["baseline"] = measure("baseline", args.baseline_src.resolve(), args.mib * MIB)
    results["lakegate"] = measure("lakegate", None, args.mib * MIB)
    document = {
        "benchmark": "request_limits",
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "setup": {
            "pushed_mib": args.mib,
            "limits_mib": {"streams.max_body_bytes": LIMIT // MIB, "web.max_upload_bytes": LIMIT // MIB},
            "client": "raw socket, Transfer-Encoding: chunked, 1 MiB chunks, stops at the answer",
            "server": "lakegate up --workers 0 (the web server runs in the up process)",
            "baseline_src": str(args.baseline_src) if args.baseline_src else None,
        },
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
