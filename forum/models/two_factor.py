"""Two-factor login: TOTP keys, single-use recovery codes, and logins waiting for their code."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import pyotp
import segno

from forum import clock
from forum.db import Conn, Transaction
from forum.errors import Invalid

ISSUER = "Vigie"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: no 0/O nor 1/l to confuse
# A code typed a little early or late (a phone's clock, the time to type it) still works:
# one time step (30 s) either side, as RFC 6238 suggests.
VALID_STEPS = 1
PENDING_MINUTES = 5  # a right password waits this long for its code
CODE_MAX = 64  # longer input is not a code: refused before any work


@dataclass(frozen=True)
class Status:
    """What the settings page shows: the key while it is being set up, or that it is on."""
    secret: str | None
    enabled: bool
    recovery_left: int = 0


async def status(conn: Conn, user_id: int) -> Status:
    row = await conn.one("select secret, enabled_at from two_factor where user_id = ?",
                         (user_id,))
    if row is None:
        return Status(None, False)
    left = await conn.value("select count(*) from recovery_codes where user_id = ?"
                            " and used_at is null", (user_id,))
    return Status(row["secret"], row["enabled_at"] is not None, int(left))


async def is_enabled(conn: Conn, user_id: int) -> bool:
    return bool(await conn.value("select 1 from two_factor where user_id = ?"
                                 " and enabled_at is not null", (user_id,)))


async def start(tx: Transaction, user_id: int) -> str:
    """A new key to set up (replacing one never confirmed); Invalid if 2FA is already on."""
    if await is_enabled(tx, user_id):
        raise Invalid("Two-factor login is already on.")
    secret = pyotp.random_base32(32)  # 160 bits, the size RFC 4226 recommends
    await tx.execute(
        "insert into two_factor (user_id, secret, created_at) values (?, ?, ?)"
        " on conflict (user_id) do update set secret = excluded.secret,"
        " created_at = excluded.created_at, last_step = 0", (user_id, secret, clock.now()))
    return secret


def provisioning_uri(secret: str, name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)


def qr_svg(secret: str, name: str, label: str) -> str:
    """The key as a QR code: an <svg> element drawn here, with attributes only (no style, no
    script: the page's CSP allows neither inline)."""
    qr = segno.make(provisioning_uri(secret, name), error="m")
    return qr.svg_inline(scale=4, dark="#000", light="#fff", title=label,
                         svgclass="qr", lineclass=None)


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


async def check_code(tx: Transaction, user_id: int, code: str, pending: bool = False) -> bool:
    """True if `code` is the current TOTP code (or a step either side) and newer than any code
    accepted before: the same code, seen by someone looking over a shoulder, works once.

    `pending`: check against a key being set up rather than one in use.
    """
    code = _normalise(code)
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return False
    row = await tx.one("select secret, last_step from two_factor where user_id = ? and"
                       f" enabled_at is {'null' if pending else 'not null'}", (user_id,))
    if row is None:
        return False
    totp = pyotp.TOTP(row["secret"])
    now_step = totp.timecode(time.time())
    for step in range(now_step - VALID_STEPS, now_step + VALID_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            if step <= row["last_step"]:
                return False  # replayed
            # The condition makes two requests racing with one code accept it once only.
            return bool(await tx.update(
                "update two_factor set last_step = ? where user_id = ? and last_step < ?",
                (step, user_id, step)))
    return False


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _recovery_code() -> str:
    # 16 characters of 5 bits: 80 random bits, beyond guessing even from a stolen hash.
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


async def new_recovery_codes(tx: Transaction, user_id: int) -> list[str]:
    """Ten fresh codes, shown once; the previous ones stop working."""
    await tx.execute("delete from recovery_codes where user_id = ?", (user_id,))
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        await tx.execute("insert into recovery_codes (user_id, code_hash) values (?, ?)",
                         (user_id, _hash(code)))
    return codes


async def use_recovery_code(tx: Transaction, user_id: int, code: str) -> bool:
    """True once per code: the code is marked used in the same statement that checks it."""
    if len(code) > CODE_MAX:
        return False
    return bool(await tx.update(
        "update recovery_codes set used_at = ? where user_id = ? and code_hash = ?"
        " and used_at is null", (clock.now(), user_id, _hash(code))))


async def check_any(tx: Transaction, user_id: int, code: str) -> bool:
    """A TOTP code from the app or, failing that, a recovery code."""
    if len(code) > CODE_MAX:
        return False
    return (await check_code(tx, user_id, code)
            or await use_recovery_code(tx, user_id, code))


async def enable(tx: Transaction, user_id: int, code: str) -> list[str]:
    """Turn 2FA on once the member proved their app has the key; returns the recovery codes."""
    if not await check_code(tx, user_id, code, pending=True):
        raise Invalid("This code is not the one your app shows. Check your phone's clock and"
                      " try the next code.", field="code")
    await tx.execute("update two_factor set enabled_at = ? where user_id = ?",
                     (clock.now(), user_id))
    return await new_recovery_codes(tx, user_id)


async def disable(tx: Transaction, user_id: int) -> None:
    await tx.execute("delete from two_factor where user_id = ?", (user_id,))
    await tx.execute("delete from recovery_codes where user_id = ?", (user_id,))


# Logins waiting for their code ---------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_pending(tx: Transaction, user_id: int, next_path: str) -> str:
    """Remember a right password for a few minutes; returns the token for the cookie."""
    await tx.execute("delete from pending_logins where expires_at <= ? or user_id = ?",
                     (clock.now(), user_id))
    token = secrets.token_urlsafe(32)
    await tx.execute(
        "insert into pending_logins (id, user_id, next, expires_at) values (?, ?, ?, ?)",
        (_token_hash(token), user_id, next_path, clock.later(minutes=PENDING_MINUTES)))
    return token


async def pending(conn: Conn, token: str) -> tuple[int, str] | None:
    """(member id, next path) of a login still waiting for its code, or None."""
    row = await conn.one("select user_id, next from pending_logins where id = ?"
                         " and expires_at > ?", (_token_hash(token), clock.now()))
    return (row["user_id"], row["next"]) if row else None


async def close_pending(tx: Transaction, token: str) -> None:
    await tx.execute("delete from pending_logins where id = ?", (_token_hash(token),))
