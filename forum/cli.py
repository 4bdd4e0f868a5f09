"""Command line: init, serve, demo, user, token, board, registration, rerender, reindex-files,
migrate-store, backup, restore, check."""
from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from forum import logs, operations, workers
from forum.app import create_app, freeze_at_start, open_database
from forum.config import REGISTRATION_MODES, Config, ConfigError
from forum.db import Transaction
from forum.errors import ForumError
from forum.migrate import migrate, migrate_postgresql
from forum.models import boards, invitations, moderation, posts, two_factor, users


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigie", description="Vigie: forum et relevé citoyen.")
    parser.add_argument("--data-dir", help="data folder (default: FORUM_DATA_DIR or ./data)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create or migrate the database")
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=_at_least_one, default=workers.default_count(),
                       help="server processes sharing the port (default: one per core;"
                            " 1: a single process)")
    demo = sub.add_parser("demo", help="build a fresh demo site and serve it")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--no-serve", action="store_true", help="build the demo site only")

    user = sub.add_parser("user", help="manage members").add_subparsers(dest="action",
                                                                       required=True)
    add = user.add_parser("add", help="create a member")
    add.add_argument("name")
    add.add_argument("--role", choices=users.ROLES, default="member")
    add.add_argument("--email")
    add.add_argument("--password-stdin", action="store_true", required=True,
                     help="read the password from standard input")
    role = user.add_parser("role", help="change a member's role")
    role.add_argument("name")
    role.add_argument("role", choices=users.ROLES)
    revoke = user.add_parser("logout", help="end every session of a member")
    revoke.add_argument("name")
    two_factor_off = user.add_parser(
        "2fa-off", help="turn off a member's two-factor login (phone and codes lost)")
    two_factor_off.add_argument("name")

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="action",
                                                                     required=True)
    create = token.add_parser("create", help="print a new API token for a member")
    create.add_argument("name")
    create.add_argument("--label", default="")
    listing = token.add_parser("list", help="a member's live tokens: id, label, created, last used")
    listing.add_argument("name")
    end = token.add_parser("revoke", help="end one of a member's tokens (its id from token list)")
    end.add_argument("name")
    end.add_argument("id", type=int)

    board = sub.add_parser("board", help="city boards").add_subparsers(dest="action",
                                                                      required=True)
    board_add = board.add_parser("add", help="create a board")
    board_add.add_argument("name")
    board_add.add_argument("--slug", default="")
    board_add.add_argument("--region", default="")
    board_add.add_argument("--description", default="")
    board_add.add_argument("--moderation", choices=boards.MODERATION_MODES,
                           help="default: FORUM_MODERATION_DEFAULT")
    board_rename = board.add_parser("rename", help="rename a board (old address redirects)")
    board_rename.add_argument("slug")
    board_rename.add_argument("name")
    board_rename.add_argument("--new-slug", default="")
    board_rename.add_argument("--region")
    board_rename.add_argument("--description")
    board_add.add_argument("--closed", action="store_true",
                           help="only its members and moderators read it")
    board.add_parser("list", help="list the boards")
    for action, what in (("close", "only its members and moderators read it"),
                         ("open", "everyone reads it again")):
        board.add_parser(action, help=f"{action} a board: {what}").add_argument("slug")
    board_mod = board.add_parser("moderator", help="add or remove a moderator of a board")
    board_mod.add_argument("slug")
    board_mod.add_argument("name")
    board_mod.add_argument("--remove", action="store_true")

    registration = sub.add_parser(
        "registration", help="show or set who may create an account, and the sign-up question")
    registration.add_argument("mode", nargs="?", choices=REGISTRATION_MODES,
                              help="open, invitation or closed (none: show the current rules)")
    registration.add_argument("--question", help="asked at sign-up; \"\" for none")

    sub.add_parser("rerender", help="cook every post's HTML again from its Markdown")
    reindex = sub.add_parser("reindex-files",
                             help="read the text of stored documents, for search")
    reindex.add_argument("--all", action="store_true",
                         help="every document, not only those never read (after an upgrade)")
    sub.add_parser("thumbnails", help="make the smaller copies of photos stored before them "
                   "(posts show them inline; run once after upgrading)")
    move = sub.add_parser("migrate-store", help="copy this SQLite site (rows and files) into an"
                          " empty PostgreSQL database, and its files into a bucket")
    move.add_argument("--to", required=True, metavar="postgresql://…",
                      help="the empty database (create it first: createdb)")
    move.add_argument("--files", default="", metavar="s3://…",
                      help="copy the stored files into this bucket too (default: they stay"
                           " where FORUM_FILES_URL says)")
    operations.add_parsers(sub)
    return parser


async def reindex_files(config: Config, everything: bool,
                        out: Callable[[str], None] = print) -> int:
    """Read and index the text of stored files (each in the text reader's own process, under
    its limits), printing progress; returns how many were read. The server may be running:
    each file's text is written in a transaction of its own."""
    from forum.models import documents
    from forum.uploads.pipeline import Uploader

    db = await open_database(config, readers=1)
    try:
        async with db.read() as conn:
            todo = await documents.to_read(conn, everything)
        uploader = Uploader(config)
        statuses: dict[str, int] = {}
        for number, (upload_id, sha256, kind) in enumerate(todo, 1):
            status = await uploader.read_text(db, upload_id, sha256, kind)
            statuses[status] = statuses.get(status, 0) + 1
            out(f"{number}/{len(todo)} file {upload_id} ({kind}): {status}")
        summary = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
        out(f"{len(todo)} file(s) read" + (f": {summary}." if summary else "."))
        return len(todo)
    finally:
        await db.close()


THUMBNAIL_BATCH = 100  # images read from the database at a time


async def make_thumbnails(config: Config, out: Callable[[str], None] = print) -> int:
    """Make the smaller copies (srcset) of every image stored before 0026_photos, each in the
    cleaning worker's process; returns how many images got them. The server may be running:
    each image's copies commit on their own, and its thread's pages are told."""
    from forum.models import uploads
    from forum.uploads.pipeline import Uploader

    db = await open_database(config, readers=1)
    try:
        uploader, done, after = Uploader(config), 0, 0
        uploader.store.open()
        while True:
            async with db.read() as conn:
                batch = await uploads.needing_sizes(conn, after, THUMBNAIL_BATCH)
            if not batch:
                break
            for upload in batch:
                made = await uploader.make_sizes(db, upload)
                done += made > 0
                out(f"file {upload.id} ({upload.kind}): "
                    + (f"{made} size(s)" if made else "left as it is (unreadable)"))
            after = batch[-1].id
        out(f"{done} image(s) given their smaller copies.")
        return done
    finally:
        await db.close()


async def _in_transaction(config: Config, work: Callable[[Transaction], Awaitable[None]]) -> None:
    db = await open_database(config, readers=1)
    try:
        async with db.transaction() as tx:
            await work(tx)
    finally:
        await db.close()


def _run(config: Config, args: argparse.Namespace) -> int:
    """Commands that change the database: each runs in one transaction."""

    async def work(tx: Transaction) -> None:
        if args.command == "user" and args.action == "add":
            password = sys.stdin.readline().rstrip("\n")
            user = await users.create(tx, args.name, password, args.role, args.email)
            print(f"{user.name} ({user.role}) created.")
        elif args.command == "user" and args.action == "role":
            user = await users.get_by_name(tx, args.name)
            await users.set_role(tx, user.id, args.role)
            print(f"{user.name} is now {args.role}.")
        elif args.command == "user" and args.action == "logout":
            user = await users.get_by_name(tx, args.name)
            count = await users.close_all_sessions(tx, user.id)
            print(f"{count} session(s) of {user.name} ended.")
        elif args.command == "user" and args.action == "2fa-off":
            user = await users.get_by_name(tx, args.name)
            await two_factor.disable(tx, user.id)
            print(f"Two-factor login of {user.name} turned off.")
        elif args.command == "token" and args.action == "create":
            user = await users.get_by_name(tx, args.name)
            print(await users.create_token(tx, user.id, args.label))
        elif args.command == "token" and args.action == "list":
            user = await users.get_by_name(tx, args.name)
            for token in await users.list_tokens(tx, user.id):
                print(f"{token.id}\t{token.label or '-'}\t{token.created_at[:10]}"
                      f"\t{token.last_used_on or 'never'}")
        elif args.command == "token" and args.action == "revoke":
            user = await users.get_by_name(tx, args.name)
            await users.revoke_token(tx, user.id, args.id)
            print(f"Token {args.id} of {user.name} revoked.")
        elif args.command == "board" and args.action == "add":
            board = await boards.create(tx, args.name, args.slug, args.region,
                                        args.description,
                                        args.moderation or config.moderation_default,
                                        closed=args.closed)
            print(f"Board {board.name} created at /b/{board.slug}"
                  f"{' (closed)' if board.closed else ''}.")
        elif args.command == "board" and args.action in ("close", "open"):
            board = await boards.get_by_slug(tx, args.slug)
            await boards.set_closed(tx, board, args.action == "close")
            print(f"Board {board.name} is {'closed' if args.action == 'close' else 'open'}.")
        elif args.command == "board" and args.action == "rename":
            board = await boards.get_by_slug(tx, args.slug)
            board = await boards.update(
                tx, board, args.name, args.new_slug or board.slug,
                board.region if args.region is None else args.region,
                board.description if args.description is None else args.description)
            print(f"Board renamed {board.name}, at /b/{board.slug}.")
        elif args.command == "board" and args.action == "moderator":
            board = await boards.get_by_slug(tx, args.slug)
            member = await users.get_by_name(tx, args.name)
            if args.remove:
                await moderation.remove_board_moderator(tx, board, member)
            else:
                await moderation.add_board_moderator(tx, board, member)
            print(f"{member.name} {'no longer moderates' if args.remove else 'moderates'}"
                  f" {board.name}.")
        elif args.command == "board" and args.action == "list":
            for board in await boards.list_all(tx):
                print(f"{board.slug}\t{board.name}\t{board.region}\t{board.moderation_mode}"
                      f"{chr(9) + 'closed' if board.closed else ''}")
        elif args.command == "registration":
            rules = await invitations.registration(tx, config)
            if args.mode or args.question is not None:
                rules = await invitations.set_registration(
                    tx, args.mode or rules.mode,
                    rules.question if args.question is None else args.question)
            print(f"Registration: {rules.mode}. Question: {rules.question or '(none)'}")
        elif args.command == "rerender":
            print(f"{await posts.rerender_all(tx)} post(s) rendered again.")

    try:
        asyncio.run(_in_transaction(config, work))
    except ForumError as error:
        print(f"error: {error.message % error.params if error.params else error.message}",
              file=sys.stderr)
        return 1
    return 0


def _migrate_store(config: Config, args: argparse.Namespace) -> int:
    from forum.migrate_store import MoveError, migrate_store

    try:
        asyncio.run(migrate_store(config, args.to, args.files,
                                  out=lambda line: print(line, flush=True)))
    except (MoveError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def serve(config: Config, host: str, port: int) -> None:
    print(f"Vigie: http://{host}:{port} (data in {config.data_dir})", flush=True)
    app = create_app(config)
    freeze_at_start(app)
    web.run_app(app, host=host, port=port, print=None, access_log=None)


def _config(args: argparse.Namespace) -> Config:
    """The site's settings from FORUM_* and the options; raises ConfigError."""
    if args.command == "demo":
        # Always SQLite and the folder's files: a FORUM_DATABASE_URL or FORUM_FILES_URL left
        # in the shell must not get the demo's members and posts (nor served from there).
        return Config.from_env(data_dir=Path(args.data_dir or "demo-data"),
                               base_url=f"http://{args.host}:{args.port}",
                               database_url="", files_url="")
    return Config.from_env(data_dir=Path(args.data_dir)) if args.data_dir else Config.from_env()


def main(argv: list[str] | None = None) -> int:
    logs.configure()
    args = _parser().parse_args(argv)
    try:
        config = _config(args)
    except ConfigError as error:  # before anything starts; 2 like argparse's usage errors
        print(f"vigie: configuration error: {error}", file=sys.stderr)
        return 2
    if args.command == "init":
        if config.database_url:
            applied = asyncio.run(migrate_postgresql(config.database_url))
            print(f"PostgreSQL database: {len(applied)} migration(s) applied.")  # no password
        else:
            applied = migrate(config.db_path)
            print(f"Database {config.db_path}: {len(applied)} migration(s) applied.")
        return 0
    if args.command in operations.COMMANDS:
        return operations.run(config, args)
    if args.command == "migrate-store":
        return _migrate_store(config, args)
    if args.command == "reindex-files":
        asyncio.run(reindex_files(config, args.all))
        return 0
    if args.command == "thumbnails":
        asyncio.run(make_thumbnails(config))
        return 0
    if args.command == "serve":
        if args.workers > 1:
            return workers.serve(config, args.host, args.port, args.workers)
        serve(config, args.host, args.port)
        return 0
    if args.command == "demo":
        from forum import demo

        demo.build(config)
        if not args.no_serve:
            serve(config, args.host, args.port)
        return 0
    return _run(config, args)

