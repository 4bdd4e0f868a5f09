"""Upload throughput for 10 MB files, and the server's peak memory while it receives them.

What it measures
  The real server runs as `python -m forum serve` on a temporary data folder (127.0.0.1 only).
  A member's API token sends `--files` files of `--size` MB each to POST /api/v1/uploads, one at
  a time and then `--concurrency` at a time, for each kind:

    text   UTF-8 text: the cleaning is a copy, so this is mostly receiving and storing
    jpeg   a photo with GPS EXIF, re-encoded by Pillow
    pdf    a PDF holding one large photo, rewritten by qpdf and drawn by PDFium

  and, in the same run, a bare aiohttp handler that streams the same multipart bodies to a file
  and answers: the ceiling of Python + aiohttp receiving on this machine.

  Memory: the server's VmHWM (peak resident set, from /proc) at start and after each kind; it
  must stay far below the bytes received (the server streams files to disk, it never holds one).
  The cleaning runs in worker processes (forum/uploads/worker.py), measured apart: their peak
  resident set on the same files, from getrusage(RUSAGE_CHILDREN).

  python bench/uploads.py [--files 8] [--size 10] [--concurrency 2]
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import pikepdf
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
BARE_SERVER = """
import sys, tempfile
from aiohttp import web

async def receive(request):
    reader = await request.multipart()
    size = 0
    while (part := await reader.next()) is not None:
        with tempfile.TemporaryFile(dir=sys.argv[2]) as file:
            while chunk := await part.read_chunk(256 * 1024):
                size += len(chunk)
                file.write(chunk)
    return web.json_response({"size": size}, status=201)

app = web.Application()
app.router.add_post("/api/v1/uploads", receive)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def make_files(size_mb: int) -> dict[str, bytes]:
    """One file per kind, close to `size_mb` MB."""
    rng = random.Random(7)
    line = "rue;caméras;date\n"
    text = (line * (size_mb * 1024 * 1024 // len(line.encode()))).encode()
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0)}
    side = 1000
    for _ in range(2):  # a photo of noise, sized once from a first try to weigh `size_mb`
        noise = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        photo = io.BytesIO()
        noise.save(photo, "JPEG", quality=92, exif=exif)
        side = int(side * (size_mb * 1024 * 1024 / len(photo.getvalue())) ** 0.5)
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    image = pikepdf.Stream(pdf, photo.getvalue(), Type=pikepdf.Name.XObject,
                           Subtype=pikepdf.Name.Image, Width=side, Height=side,
                           ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8,
                           Filter=pikepdf.Name.DCTDecode)
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    pdf.docinfo["/Author"] = "Bench"
    out = io.BytesIO()
    pdf.save(out)
    return {"text": text, "jpeg": photo.getvalue(), "pdf": out.getvalue()}


async def send_all(url: str, token: str, name: str, data: bytes, count: int,
                   concurrency: int) -> float:
    """Seconds to upload `count` copies (each a little different: no dedup shortcut)."""
    limit = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=600)

    async def one(session: aiohttp.ClientSession, n: int) -> None:
        async with limit:
            form = aiohttp.FormData()
            body = data + b"\n" + str(n).encode() if name.endswith(".txt") else data
            form.add_field("file", body, filename=name, content_type="application/octet-stream")
            async with session.post(url, data=form,
                                    headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status != 201:
                    raise RuntimeError(f"{response.status}: {await response.text()}")

    async with aiohttp.ClientSession(timeout=timeout) as session:
        start = time.perf_counter()
        await asyncio.gather(*(one(session, n) for n in range(count)))
        return time.perf_counter() - start


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server did not start: {command}")


def worker_peak_mb(files: dict[str, bytes], folder: Path) -> dict[str, float]:
    """The cleaning worker's peak resident set per kind, run directly on the same files."""
    peaks = {}
    for kind, data in files.items():
        src = folder / f"worker-{kind}"
        src.write_bytes(data)
        job = {"src": str(src), "dst": str(folder / "out"), "thumb": str(folder / "thumb"),
               "filename": f"f.{'txt' if kind == 'text' else kind}", "claimed": "",
               "kinds": [kind], "max_pixels": 50_000_000}
        code = ("import resource, subprocess, sys;"
                "subprocess.run([sys.executable, '-m', 'forum.uploads.worker'],"
                " input=sys.stdin.buffer.read(), check=True, stdout=subprocess.DEVNULL);"
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code], input=json.dumps(job).encode(),
                             capture_output=True, check=True, cwd=ROOT)
        peaks[kind] = int(out.stdout) / 1024
    return peaks


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--size", type=int, default=10, help="MB per file")
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    files = make_files(args.size)
    with tempfile.TemporaryDirectory(prefix="vigie-bench-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "FORUM_DATA_DIR": str(folder / "data"),
               "FORUM_UPLOAD_MAX_BYTES": str((args.size + 2) * 1024 * 1024),
               "FORUM_UPLOADS_PER_MINUTE": "100000", "FORUM_UPLOADS_PER_DAY": "100000",
               "FORUM_UPLOAD_BYTES_PER_DAY": str(10 ** 12), "PYTHONPATH": str(ROOT)}
        forum = [sys.executable, "-m", "forum"]
        subprocess.run([*forum, "user", "add", "bench", "--password-stdin"], env=env, cwd=ROOT,
                       input=b"bench password 123\n", check=True, capture_output=True)
        token = subprocess.run([*forum, "token", "create", "bench"], env=env, cwd=ROOT,
                               check=True, capture_output=True, text=True).stdout.strip()
        port, bare_port = free_port(), free_port()
        server = start([*forum, "serve", "--workers", "1", "--port", str(port)], env, port)
        (folder / "bare").mkdir()
        bare = start([sys.executable, "-c", BARE_SERVER, str(bare_port), str(folder / "bare")],
                     env, bare_port)
        try:
            print(f"{args.files} files of each kind, {args.size} MB each; "
                  f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
            print(f"server peak RSS at start: {peak_rss_mb(server.pid):.0f} MB")
            print(f"{'kind':6} {'MB':>5} {'1 at a time':>13} {f'{args.concurrency} at a time':>13}"
                  f" {'server peak RSS':>16}")
            for kind, data in files.items():
                size = len(data) / 1024 / 1024
                for target, label in ((f"http://127.0.0.1:{bare_port}", "bare"),
                                      (f"http://127.0.0.1:{port}", kind)):
                    name = f"f.{'txt' if kind == 'text' else kind}"
                    url = f"{target}/api/v1/uploads"
                    one = await send_all(url, token, name, data, args.files, 1)
                    many = await send_all(url, token, name, data, args.files, args.concurrency)
                    pid = bare.pid if label == "bare" else server.pid
                    print(f"{label:6} {size:5.1f} {args.files * size / one:9.1f} MB/s"
                          f" {args.files * size / many:9.1f} MB/s"
                          f" {peak_rss_mb(pid):12.0f} MB")
            peaks = worker_peak_mb(files, folder)
            print("cleaning worker peak RSS: " + ", ".join(
                f"{kind} {mb:.0f} MB" for kind, mb in peaks.items()))
            received = 2 * args.files * sum(len(d) for d in files.values()) / 1024 / 1024
            print(f"received by the server in all: {received:.0f} MB;"
                  f" its peak RSS: {peak_rss_mb(server.pid):.0f} MB")
        finally:
            for process in (server, bare):
                process.terminate()
                process.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
