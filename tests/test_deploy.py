"""deploy/ parses with the real tools, and docs/deploy.md names only commands that exist."""
from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from forum.cli import _parser
from forum.config import MB, Config
from forum.views.uploads import FIELDS_ALLOWANCE

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
