"""Benchmark: the web app under load (issue 17) — 20 concurrent clients each uploading the
example's dose-response plate and running it, on loopback only.

What is measured, against a real ``trkres serve`` process (its default workers: one per
core, at most 8) on a fresh data folder:

* **start**: seconds from launching ``trkres serve`` to ``/api/health`` answering
  (issue target: < 2 s);
* **upload-to-result** per client: from the start of the upload (``POST
  /api/projects/{id}/files``) through ``POST /api/projects/{id}/runs`` and
  ``GET /api/runs/{id}?wait=30`` (answered when the run ends: no polling) until ``done``, to the
  fits table received (``GET /api/runs/{id}/tables/dose_response_fits``). p50, p95, max
  and errors (issue target: p95 < 2 s, no errors);
* **pages**: each client then loads the projects page, its project page, its run page,
  its table page and the report (one ~5 MB self-contained HTML), all concurrently;
  p95 per page (issue target: < 1 s).

Every client's plate differs (responses scaled by 1 + 1e-6·client), so no two runs are
the same work; the app caches nothing anyway. A warm-up run (not counted) first, so the
workers have imported the analyses. Loopback only, bounded: ``--clients`` threads, one
round. Peer: none (no other tool serves these analyses); the targets are absolute.

Run: ``python benchmarks/app_load.py [--clients 20] [--workers N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
PLATE = REPO / "examples" / "ntrk_resistance" / "lab" / "viability_entrectinib.tsv"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plate(client: int) -> bytes:
    lines = PLATE.read_text().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split("\t")
        cells[-1] = f"{float(cells[-1]) * (1 + 1e-6 * client):.7g}"
        out.append("\t".join(cells))
    return ("\n".join(out) + "\n").encode()


def one_client(url: str, i: int, barrier: threading.Barrier, out: dict[str, object]) -> None:
    try:
        with httpx.Client(base_url=url, timeout=120) as http:
            pid = http.post("/api/projects", json={"name": f"client {i}"}).json()["id"]
            data = plate(i)
            barrier.wait()
            t0 = time.perf_counter()
            up = http.post(f"/api/projects/{pid}/files", files={"file": (f"plate{i}.tsv", data)},
                           data={"kind": "dose_response"})  # fmt: skip
            up.raise_for_status()
            created = http.post(f"/api/projects/{pid}/runs", json={})
            if created.status_code != 200:
                raise RuntimeError(f"run refused ({created.status_code}): {created.text[:300]}")
            rid = created.json()["id"]
            while True:  # answered as soon as the run ends (no polling)
                status = http.get(f"/api/runs/{rid}", params={"wait": 30}).json()
                if status["status"] in ("done", "failed"):
                    break
            if status["status"] != "done":
                raise RuntimeError(f"run failed: {status['error']}")
            table = http.get(f"/api/runs/{rid}/tables/dose_response_fits")
            table.raise_for_status()
            out["latency"] = time.perf_counter() - t0
            out["pid"], out["rid"] = pid, rid
    except Exception as exc:  # counted, not hidden
        out["error"] = f"{type(exc).__name__}: {exc}"


def load_pages(url: str, pid: str, rid: str, barrier: threading.Barrier,
               out: dict[str, float]) -> None:  # fmt: skip
    pages = {"projects": "/", "project": f"/projects/{pid}", "run": f"/runs/{rid}",
             "table": f"/runs/{rid}/tables/dose_response_fits",
             "report": f"/api/runs/{rid}/report"}  # fmt: skip
    with httpx.Client(base_url=url, timeout=60) as http:
        barrier.wait()
        for name, path in pages.items():
            t0 = time.perf_counter()
            response = http.get(path)
            response.raise_for_status()
            out[name] = time.perf_counter() - t0


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(server process, its descendants: the workers) CPU seconds used so far (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")

    def own(p: int) -> float:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / tick

    def children(p: int) -> list[int]:
        out = []
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                out += [int(c) for c in (task / "children").read_text().split()]
        return out

    todo, rest = children(pid), 0.0
    while todo:
        p = todo.pop()
        rest += own(p)
        todo += children(p)
    return own(pid), rest


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="trkres-load-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "trkres", "serve", "--port", str(port), "--data", str(data)]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    t0 = time.perf_counter()
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.02)
        start = time.perf_counter() - t0
        workers = httpx.get(f"{url}/api/health").json()["workers"]
        warm: dict[str, object] = {}
        one_client(url, 10_000, threading.Barrier(1), warm)
        if "error" in warm:
            raise SystemExit(f"warm-up failed: {warm['error']}")
        results: list[dict[str, object]] = [{} for _ in range(args.clients)]
        barrier = threading.Barrier(args.clients)
        threads = [threading.Thread(target=one_client, args=(url, i, barrier, results[i]))
                   for i in range(args.clients)]  # fmt: skip
        cpu0 = cpu_seconds(server.pid)
        wall0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - wall0
        cpu1 = cpu_seconds(server.pid)
        latencies = [float(r["latency"]) for r in results if "latency" in r]  # type: ignore[arg-type]
        errors = [str(r["error"]) for r in results if "error" in r]
        ok = [r for r in results if "rid" in r]
        page_times: list[dict[str, float]] = [{} for _ in ok]
        barrier = threading.Barrier(len(ok))
        threads = [threading.Thread(target=load_pages, args=(url, r["pid"], r["rid"], barrier,
                                                             page_times[k]))
                   for k, r in enumerate(ok)]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(30)
    cores = os.cpu_count()
    print(f"machine: {platform.machine()}, {cores} cores; server workers: {workers}")
    print(f"start (launch to /api/health answering): {start:.2f} s  (target < 2 s)")
    print(f"{args.clients} concurrent clients, upload → run → fits table, wall {wall:.2f} s:")
    if latencies:
        print(f"  upload-to-result p50 {statistics.median(latencies):.2f} s, "
              f"p95 {pct(latencies, 0.95):.2f} s, max {max(latencies):.2f} s  "
              f"(target p95 < 2 s)")  # fmt: skip
        print(f"  throughput {len(latencies) / wall:.1f} runs/s")
        n = max(len(latencies), 1)
        print(f"  CPU per upload+run: server process {(cpu1[0] - cpu0[0]) / n:.3f} s, "
              f"workers {(cpu1[1] - cpu0[1]) / n:.3f} s (the clients' own CPU excluded)")  # fmt: skip
    print(f"  errors: {len(errors)}" + (f" — {errors[:3]}" if errors else ""))
    for name in ("projects", "project", "run", "table", "report"):
        times = [p[name] for p in page_times if name in p]
        if times:
            print(f"  page {name:<8} p95 {pct(times, 0.95) * 1000:6.0f} ms, "
                  f"max {max(times) * 1000:6.0f} ms  (target < 1 s)")  # fmt: skip


if __name__ == "__main__":
    main()
