"""`bench/thread_page.py --workers N`: the thread page served by 1 and by N worker processes.

One generated forum, two runs of `python -m forum serve --workers W` (W = 1, then N), each
measured with wrk for three kinds of reader of the same 50-post thread page:

    cached      an anonymous reader: the rendered-page cache (after a check of data_version)
    uncached    `Cookie: vigie_session=bogus`: no cache, the page rendered as for a visitor
    member      a logged-in member: the shell rendered for them, posts from the fragments

and the scaling ratio N workers / 1 worker (goal on 2 cores: >= 1.7 for uncached and member).
wrk runs on the same machine and takes CPU too (one thread: --wrk-threads): on 2 cores the
servers never get both cores whole, so the ratio is a lower bound. `CPU ms` adds up the CPU
time of every worker per request.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import harness
import thread_page as tp  # bench/ is on sys.path when thread_page.py runs

SCALING_GOAL = 1.7  # issue 13, on 2 cores, for uncached and member pages


def _worker_pids(master: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()] or [master]


def _cpu(pids: list[int]) -> float:
    return sum(harness.cpu_seconds(pid) or 0.0 for pid in pids)


def _measure(label: str, port: int, path: str, headers: dict[str, str], pids: list[int],
             args: argparse.Namespace) -> tuple[float, float]:
    """req/s and server CPU ms per request."""
    url = f"http://127.0.0.1:{port}{path}"
    status, _headers, body = harness.fetch(port, path, headers)
    if status != 200 or body.count(b"<article") != tp.TARGET_POSTS:
        raise SystemExit(f"{label}: status {status}, {body.count(b'<article')} <article>")
    if args.warmup > 0:
        harness.run_wrk(label, url, headers, args.warmup, args)
    before = _cpu(pids)
    result = harness.run_wrk(label, url, headers, args.duration, args)
    cpu_ms = (_cpu(pids) - before) * 1000 / max(1, result.requests)
    print(f"  {label:<22} {result.rps:>9,.0f} req/s  p99 {result.percentiles['99%']:.1f} ms"
          f"  {cpu_ms:.2f} CPU ms", flush=True)
    return result.rps, cpu_ms


def _run(forum: tp.GeneratedForum, workers: int,
         args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env.update(FORUM_POSTS_PER_PAGE=str(tp.TARGET_POSTS), PYTHONUNBUFFERED="1")
    port = harness.free_port()
    log = forum.data_dir / f"server-{workers}.log"
    proc = harness.start_process([sys.executable, "-m", "forum", "--data-dir",
                                  str(forum.data_dir), "serve", "--host", "127.0.0.1", "--port",
                                  str(port), "--workers", str(workers)], log, env)
    try:
        harness.wait_ready(proc, port, log, tp.READY_TIMEOUT)
        pids = _worker_pids(proc.pid)
        while workers > 1 and len(pids) < workers:
            pids = _worker_pids(proc.pid)
        print(f"{workers} worker(s): pids {pids}", flush=True)
        path = f"/t/{forum.thread_id}"
        return {label: _measure(f"{label} ({workers}w)", port, path, headers, pids, args)
                for label, headers in (
                    ("cached", {}),
                    ("uncached", {"Cookie": "vigie_session=bogus"}),
                    ("member", {"Cookie": f"vigie_session={forum.member_token}"}))}
    finally:
        harness.stop_process(proc)


def compare(args: argparse.Namespace, root: Path) -> None:
    """Generate the forum, measure with 1 then args.workers workers, print the ratios."""
    forum = tp.make_forum(root, args.posts)
    one = _run(forum, 1, args)
    many = _run(forum, args.workers, args)
    print(f"\nThread page, {tp.TARGET_POSTS} posts, forum of {forum.posts:,} posts;"
          f" {args.connections} connections, wrk threads {args.wrk_threads};"
          f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'':<10}{'1 worker':>12}{f'{args.workers} workers':>12}{'ratio':>8}"
          f"{'CPU ms 1w':>11}{f'CPU ms {args.workers}w':>11}  goal")
    for label in one:
        ratio = many[label][0] / one[label][0]
        goal = "" if label == "cached" else (
            f">= {SCALING_GOAL} {'ok' if ratio >= SCALING_GOAL else 'MISSED'}")
        print(f"{label:<10}{one[label][0]:>12,.0f}{many[label][0]:>12,.0f}{ratio:>8.2f}"
              f"{one[label][1]:>11.2f}{many[label][1]:>11.2f}  {goal}")
