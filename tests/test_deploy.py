"""deploy/ parses with the real tools, and docs/deploy.md names only commands that exist."""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from forum.cli import _parser
from forum.config import MB, Config
from forum.multipart import FIELDS_ALLOWANCE

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOC = ROOT / "docs" / "deploy.md"
UNITS = ("vigie.service", "vigie-backup.service", "vigie-backup.timer")
INSTALLED_PYTHON = "/opt/vigie/.venv/bin/python"


def _units_here(tmp_path: Path) -> list[Path]:
    """The units with the interpreter of this checkout (verify wants ExecStart to exist)."""
    paths = []
    for name in UNITS:
        text = (DEPLOY / name).read_text().replace(INSTALLED_PYTHON, sys.executable)
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    return paths


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_units_verify(tmp_path) -> None:
    result = subprocess.run(["systemd-analyze", "verify", *map(str, _units_here(tmp_path))],
                            capture_output=True, text=True, timeout=60)
    # Unknown keys are only warned about (exit 0): any message at all is a mistake.
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_service_is_hardened() -> None:
    unit = (DEPLOY / "vigie.service").read_text()
    for line in ("User=vigie", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "ReadWritePaths=/var/lib/vigie", "PrivateTmp=yes", "CapabilityBoundingSet=\n",
                 "Environment=FORUM_DATA_DIR=/var/lib/vigie", "Restart=on-failure"):
        assert line in unit
    backup = (DEPLOY / "vigie-backup.service").read_text()
    assert "-m forum backup /var/backups/vigie --keep" in backup and "--quiet" in backup
    assert "User=vigie" in backup and "ProtectSystem=strict" in backup


def _nginx_config(tmp_path: Path) -> Path:
    """deploy/nginx/vigie.conf inside a minimal nginx.conf, with a throwaway certificate."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=forum.example.org", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    site = (DEPLOY / "nginx" / "vigie.conf").read_text()
    live = "/etc/letsencrypt/live/forum.example.org/"
    site = (site.replace(live + "fullchain.pem", str(tmp_path / "cert.pem"))
            .replace(live + "privkey.pem", str(tmp_path / "key.pem"))
            .replace("/var/log/nginx/", f"{tmp_path}/")
            .replace("/opt/vigie/static/", f"{ROOT}/static/"))
    (tmp_path / "vigie.conf").write_text(site)
    temps = "\n".join(f"    {kind}_temp_path {tmp_path}/{kind};"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
                    f"http {{\n{temps}\n    include {tmp_path}/vigie.conf;\n}}\n")
    return main


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx not installed (make debs)")
@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl not installed")
def test_nginx_config_is_valid(tmp_path) -> None:
    main = _nginx_config(tmp_path)
    result = subprocess.run(["nginx", "-t", "-c", str(main), "-p", str(tmp_path), "-e", "stderr"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_nginx_config_keeps_addresses_and_limits_right() -> None:
    site = (DEPLOY / "nginx" / "vigie.conf").read_text()
    # The proxy sets the header itself; appending would pass on what a client forged.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert "proxy_add_x_forwarded_for" not in site
    log_format = re.search(r"log_format vigie '([^']*)'", site).group(1)
    assert "remote_addr" not in log_format and "request_uri" not in log_format
    assert "$args" not in log_format and "$request " not in log_format
    limit = Config().upload_post_max_bytes + FIELDS_ALLOWANCE
    assert f"client_max_body_size {limit // MB}m;" in site
    assert "proxy_request_buffering off;" in site
    assert "immutable" in site


@pytest.mark.skipif(not shutil.which("caddy"), reason="caddy not installed (make debs)")
def test_caddyfile_is_valid(tmp_path) -> None:
    home = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(["caddy", "validate", "--adapter", "caddyfile", "--config",
                             str(DEPLOY / "Caddyfile")],
                            capture_output=True, text=True, timeout=60, env=home)
    assert result.returncode == 0, result.stderr
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    limit = Config().upload_post_max_bytes + FIELDS_ALLOWANCE
    assert f"max_size {limit // MB}MB" in caddyfile
    assert "\tlog" not in caddyfile  # no access log at all


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def documented_commands() -> list[list[str]]:
    """Every `python -m forum ...` in docs/deploy.md and deploy/, as words after `forum`."""
    texts = [DOC.read_text(), *(p.read_text() for p in DEPLOY.rglob("*") if p.is_file())]
    commands = []
    for text in texts:
        text = text.replace("\\\n", " ")
        for match in re.finditer(r"-m forum((?: [^`|&;\n]+)?)|`vigie ([^`]+)`", text):
            commands.append(shlex.split(match.group(1) or match.group(2)))
    return commands


def test_every_documented_command_exists() -> None:
    commands = documented_commands()
    assert len(commands) >= 6
    names = set()
    for words in commands:
        parser = _parser()
        words = list(words)
        if words[:1] == ["--data-dir"]:
            words = words[2:]
        while words and (choices := _subcommands(parser)):
            assert words[0] in choices, f"`{words[0]}` is not a command: {words}"
            names.add(words[0])
            parser = choices[words.pop(0)]
        for word in words:
            if word.startswith("--"):
                assert word in _options(parser), f"{word} is not an option of {parser.prog}"
    assert {"backup", "restore", "check", "serve", "user"} <= names


# The proxies at work, in front of a stand-in for Vigie that echoes what it receives. ---------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _echo_server(aiohttp_server) -> int:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response({"headers": dict(request.headers), "size": len(body),
                                  "path": request.path_qs})

    app = web.Application(client_max_size=100 * MB)
    app.router.add_route("*", "/{tail:.*}", echo)
    return (await aiohttp_server(app)).port


async def _wait_for_port(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(100):
        if process.returncode is not None:
            raise AssertionError(await process.stderr.read())
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise AssertionError(f"nothing listens on {port}")


async def _declared_too_large(port: int, tls: bool) -> int:
    """The status answered to a request declaring a body over the limit (none is sent)."""
    context = ssl.create_default_context() if tls else None
    if context:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    size = Config().upload_post_max_bytes + FIELDS_ALLOWANCE + 1
    writer.write(f"POST /api/v1/uploads HTTP/1.1\r\nHost: forum.example.org\r\n"
                 f"Content-Length: {size}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status = int((await asyncio.wait_for(reader.readline(), 10)).split()[1])
    writer.close()
    return status


async def _sent_too_large(base: str) -> int:
    """The status answered to a body over the limit, sent in full."""
    size = Config().upload_post_max_bytes + FIELDS_ALLOWANCE + 1
    async with aiohttp.ClientSession() as session, session.post(
            f"{base}/api/v1/uploads", data=bytes(size),
            timeout=aiohttp.ClientTimeout(total=30)) as response:
        return response.status


async def _check_proxy(base: str) -> None:
    connector = aiohttp.TCPConnector(ssl=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        host = {"Host": "forum.example.org"}
        async with session.get(f"{base}/search?q=secret", headers={
                **host, "X-Forwarded-For": "203.0.113.66"}) as response:
            seen = await response.json()
        assert seen["headers"]["X-Forwarded-For"] == "127.0.0.1"  # the forged one is gone
        assert seen["path"] == "/search?q=secret"
        async with session.post(f"{base}/p/1/edit", data=b"x" * 3 * MB, headers=host) as response:
            assert (await response.json())["size"] == 3 * MB  # past aiohttp's 2 MB: uploads
        css = (ROOT / "static" / "css" / "vigie.css").read_bytes()
        async with session.get(f"{base}/static/css/vigie.css?v=0123456789",
                               headers=host) as response:
            assert response.status == 200 and await response.read() == css
            assert "immutable" in response.headers["Cache-Control"]
            assert "max-age=31536000" in response.headers["Cache-Control"]
        async with session.get(f"{base}/static/css/vigie.css", headers=host) as response:
            assert response.headers["Cache-Control"] == "public, max-age=3600"


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx not installed (make debs)")
@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl not installed")
async def test_nginx_in_front_of_vigie(tmp_path, aiohttp_server) -> None:
    upstream = await _echo_server(aiohttp_server)
    http, https = _free_port(), _free_port()
    main = _nginx_config(tmp_path)
    site = (tmp_path / "vigie.conf").read_text()
    site = re.sub(r"\n\s*listen \[::\]:\d+[^\n]*", "", site)
    site = (site.replace("listen 443 ssl", f"listen 127.0.0.1:{https} ssl")
            .replace("listen 80;", f"listen 127.0.0.1:{http};")
            .replace("127.0.0.1:8080", f"127.0.0.1:{upstream}"))
    (tmp_path / "vigie.conf").write_text(site)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers may read tmp_path (0700)
    main.write_text(user + main.read_text())
    process = await asyncio.create_subprocess_exec(
        "nginx", "-c", str(main), "-p", str(tmp_path), "-e", "stderr", "-g", "daemon off;",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        await _wait_for_port(https, process)
        await _check_proxy(f"https://127.0.0.1:{https}")
        assert await _declared_too_large(https, tls=True) == 413
    finally:
        process.terminate()
        await process.wait()
    log = (tmp_path / "vigie-access.log").read_text()
    assert "/search" in log  # a line per request, without who nor what was searched
    assert "127.0.0.1" not in log and "203.0.113.66" not in log and "secret" not in log


@pytest.mark.skipif(not shutil.which("caddy"), reason="caddy not installed (make debs)")
async def test_caddy_in_front_of_vigie(tmp_path, aiohttp_server) -> None:
    upstream, port = await _echo_server(aiohttp_server), _free_port()
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    caddyfile = ("{\n\tadmin off\n}\n" + caddyfile
                 .replace("forum.example.org {", f"http://:{port} {{")
                 .replace("127.0.0.1:8080", f"127.0.0.1:{upstream}")
                 .replace("/opt/vigie/static", f"{ROOT}/static"))
    (tmp_path / "Caddyfile").write_text(caddyfile)
    home = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    process = await asyncio.create_subprocess_exec(
        "caddy", "run", "--adapter", "caddyfile", "--config", str(tmp_path / "Caddyfile"),
        env=home, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        await _wait_for_port(port, process)
        await _check_proxy(f"http://127.0.0.1:{port}")
        # Caddy 2.6 (Debian 12) cuts the body at max_size and answers 502, later ones 413:
        # either way Vigie never receives it whole (the echo would answer 200).
        assert await _sent_too_large(f"http://127.0.0.1:{port}") in (413, 502)
    finally:
        process.terminate()
        await process.wait()
