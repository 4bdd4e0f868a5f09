"""What every bench needs: a server started and stopped on a free port, load, and figures.

The benches (thread_page.py, search.py, watch_pages.py, hostile.py, workers.py) generate their
own data and decide what to measure; this module only runs processes and load generators on
127.0.0.1 and reads their numbers. `bench/` is on sys.path when a bench runs, so they import it
as `harness`.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class LoadResult:
    label: str
    rps: float
    percentiles: dict[str, float]  # "50%", "75%", "90%", "99%" -> milliseconds
    requests: int
    bad_status: int = 0
    errors: int = 0
    note: str = ""
    cpu_ms: float | None = None  # server CPU time per request (all its threads)


# Times ---------------------------------------------------------------------------------------

def iso(seconds: float) -> str:
    whole = int(seconds)
    millis = int((seconds - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


# Data ----------------------------------------------------------------------------------------

@contextlib.contextmanager
def data_folder(prefix: str, keep: bool = False) -> Iterator[Path]:
    """A temporary folder for the forums a bench generates: removed at the end, even after an
    error, unless `keep` (--keep, to look at them), and then where it is is printed."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield root
    finally:
        if keep:
            print(f"\nData kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


# Servers -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(port: int, path: str, headers: dict[str, str] | None = None,
          ) -> tuple[int, Message, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def start_process(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            if fetch(port, "/")[0] < 500:
                return
        time.sleep(0.1)
    raise SystemExit(f"server not ready after {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


# Load ----------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = _must(r"([\d.]+)(us|ms|s|m)$", text).groups()
    return float(number) * _UNITS[unit]


def _must(pattern: str, text: str) -> re.Match[str]:
    match = re.search(pattern, text, re.M)
    if match is None:
        raise SystemExit(f"unexpected wrk output (no {pattern!r}):\n{text}")
    return match


def run_wrk(label: str, url: str, headers: dict[str, str], seconds: float,
            args: argparse.Namespace, script: str | None = None) -> LoadResult:
    """wrk on `url` (or on the paths a Lua `script` requests, bench/search.py)."""
    command = ["wrk", f"-t{min(args.wrk_threads, args.connections)}", f"-c{args.connections}",
               f"-d{max(1, round(seconds))}s", "--timeout", "10s", "--latency"]
    if script:
        command += ["-s", script]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True,
                            timeout=seconds + 60).stdout
    rps = float(_must(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = {p: _ms(v) for p, v in re.findall(r"^\s+(\d+%)\s+(\S+)\s*$", output, re.M)}
    if set(percentiles) != {"50%", "75%", "90%", "99%"}:
        raise SystemExit(f"unexpected wrk output (latency distribution):\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    requests = int(_must(r"(\d+) requests in", output).group(1))
    return LoadResult(label, rps, percentiles, requests, int(bad.group(1)) if bad else 0,
                      sum(map(int, errors.groups())) if errors else 0)


async def python_load(label: str, url: str, headers: dict[str, str], seconds: float,
                       connections: int) -> LoadResult:
    """The fallback when wrk is missing: bounded in time; the client itself costs CPU."""
    latencies: list[float] = []
    counts = {"bad": 0, "errors": 0}
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=10)) as session:

        async def worker() -> None:
            while (began := time.perf_counter()) < deadline:
                try:
                    async with session.get(url, headers=headers) as response:
                        await response.read()
                        counts["bad"] += response.status >= 400
                except (aiohttp.ClientError, TimeoutError):
                    counts["errors"] += 1
                    continue
                latencies.append((time.perf_counter() - began) * 1000)

        await asyncio.gather(*(worker() for _ in range(connections)))
    latencies = sorted(latencies) or [0.0]
    percentiles = {f"{p}%": latencies[min(len(latencies) - 1, len(latencies) * p // 100)]
                   for p in (50, 75, 90, 99)}
    return LoadResult(label, len(latencies) / seconds, percentiles, len(latencies),
                      counts["bad"], counts["errors"], "python client")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
