"""The operator's commands: backup, restore, check. Exit codes: 0 done, 1 failed, 2 usage.

They work on the files of a data folder, beside a running server (backup, check) or before one
starts (restore), so they run without the app; docs/deploy.md says when to use each.
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

import asyncpg

from forum import backup, check
from forum.config import Config
from forum.storage import Storage, open_storage

COMMANDS = ("backup", "restore", "check")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The subcommands, added to `vigie`'s parser."""
    make = sub.add_parser("backup", help="copy the database and files of a site, even running")
    make.add_argument("dest", help="folder of the backups (each one is a vigie-<time> folder)")
    make.add_argument("--keep", type=_positive, metavar="N",
                      help="then keep only the N newest backups in DEST")
    make.add_argument("--quiet", action="store_true", help="no progress line (cron, timers)")
    back = sub.add_parser("restore", help="restore a backup into a new, empty data folder")
    back.add_argument("src", help="a backup folder, or a folder of backups (the newest is used)")
    back.add_argument("--quiet", action="store_true")
    verify = sub.add_parser("check", help="check the database, stored files and counters")
    verify.add_argument("--repair", action="store_true",
                        help="recompute counters, move orphan files to quarantine/")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def run(config: Config, args: argparse.Namespace) -> int:
    data_dir = config.data_dir
    try:
        storage = open_storage(config.files_url, data_dir)
        if args.command == "backup":
            return _backup(config, args, storage)
        if args.command == "restore":
            backup.restore(Path(args.src), data_dir, backup.Progress(quiet=args.quiet),
                           storage, config.database_url)
            return 0
        return _check(config, args.repair, storage)
    except (backup.BackupError, OSError, sqlite3.Error, asyncpg.PostgresError) as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1


def _backup(config: Config, args: argparse.Namespace, storage: Storage) -> int:
    folder, problems = backup.backup(config.data_dir, Path(args.dest), args.keep,
                                     backup.Progress(quiet=args.quiet), storage,
                                     config.database_url)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    if problems:
        print(f"error: {folder} was written, but the data folder has problems:"
              " run `vigie check`.", file=sys.stderr)
        return 1
    return 0


def _check(config: Config, repair: bool, storage: Storage) -> int:
    report = check.check(config.data_dir, repair, storage, config.database_url)
    for line in report.notes:
        print(f"note: {line}", file=sys.stderr)
    for line in report.repaired:
        print(f"repaired: {line}")
    for line in report.problems:
        print(f"problem: {line}")
    if report.problems:
        print(f"{len(report.problems)} problem(s) found.")
        return 1
    print("ok" if not report.repaired else f"ok after {len(report.repaired)} repair(s).")
    return 0
