"""The legal deadlines of a records request (CRPA), as dates. Pure: no I/O.

- One month of silence after the administration received the request is an implicit refusal
  (CRPA R. 311-12, R. 311-13). The receipt date is often unknown: then the month runs from the
  date sent (COUNTED_FROM_SENT), and the pages say so.
- The requester may refer a refusal (explicit, implicit, or an answer in part) to the CADA
  within two months of it (R. 343-1).
- The CADA aims to give its opinion within one month of the referral (R. 343-3); the
  administration then has one month to say what it does (R. 343-4).

Months are counted as the Code de procédure civile counts them (art. 641): a period ends on the
day of the last month with the same number, or that month's last day when there is none —
31 January + 1 month is 28 February (29 in a leap year). dateutil's relativedelta does exactly
this, so no hand-written month arithmetic. A deadline the requester must meet (the referral)
that ends on a Saturday, Sunday or public holiday runs to the next working day (art. 642).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from dateutil.easter import easter
from dateutil.relativedelta import relativedelta

REFUSAL_MONTHS = 1  # R. 311-13
REFERRAL_MONTHS = 2  # R. 343-1
OPINION_MONTHS = 1  # R. 343-3: the CADA's aim, not a hard rule
REPLY_MONTHS = 1  # R. 343-4: the administration's answer to the opinion
COUNTED_FROM_RECEIVED, COUNTED_FROM_SENT = "received", "sent"

# Statuses after which the request waits for the CADA referral (a refusal, whole or part).
REFUSALS = ("refused", "answered_part")
OPINIONS = ("cada_favourable", "cada_unfavourable")


def add_months(day: date, months: int) -> date:
    """`day` + `months` months, ending on the month's last day when the number is missing."""
    return day + relativedelta(months=months)


@lru_cache(maxsize=64)
def public_holidays(year: int) -> frozenset[date]:
    """France's public holidays (metropolitan list, without Alsace-Moselle's two extra days)."""
    easter_sunday = easter(year)
    fixed = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))
    movable = (easter_sunday + timedelta(days=1), easter_sunday + timedelta(days=39),
               easter_sunday + timedelta(days=50))
    return frozenset({date(year, month, day) for month, day in fixed} | set(movable))


def next_working_day(day: date) -> date:
    """`day`, or the first day after it that is neither a weekend nor a public holiday."""
    while day.weekday() >= 5 or day in public_holidays(day.year):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class Deadlines:
    """The dates a request's current status leads to (None when it leads to none)."""
    refusal_on: date  # the last day of the month of silence
    counted_from: str  # COUNTED_FROM_RECEIVED or COUNTED_FROM_SENT
    referral_by: date | None = None  # last day to refer to the CADA
    opinion_expected: date | None = None
    reply_expected: date | None = None


def implicit_refusal_on(sent_on: date, received_on: date | None) -> tuple[date, str]:
    """The end of the month of silence, and what it was counted from."""
    if received_on is not None:
        return add_months(received_on, REFUSAL_MONTHS), COUNTED_FROM_RECEIVED
    return add_months(sent_on, REFUSAL_MONTHS), COUNTED_FROM_SENT


def deadlines(sent_on: date, received_on: date | None, status: str,
              status_on: date) -> Deadlines:
    """What comes next for a request whose latest recorded status is `status` on `status_on`."""
    refusal_on, counted_from = implicit_refusal_on(sent_on, received_on)
    found = Deadlines(refusal_on, counted_from)
    if status == "sent":
        # The implicit refusal is born on refusal_on (at its end): two months from that day.
        return _with(found, referral_by=next_working_day(add_months(refusal_on,
                                                                     REFERRAL_MONTHS)))
    if status in REFUSALS:
        return _with(found, referral_by=next_working_day(add_months(status_on,
                                                                     REFERRAL_MONTHS)))
    if status == "cada_referral":
        return _with(found, opinion_expected=add_months(status_on, OPINION_MONTHS))
    if status in OPINIONS:
        return _with(found, reply_expected=add_months(status_on, REPLY_MONTHS))
    return found


def _with(found: Deadlines, **dates: date) -> Deadlines:
    return Deadlines(**{**found.__dict__, **dates})


def passed(found: Deadlines, status: str, today: date) -> list[tuple[str, date]]:
    """The deadlines of this status that are over on `today`, as (name, date): what the
    periodic job tells the requester and the city's followers, once each."""
    over: list[tuple[str, date]] = []
    if status == "sent" and today > found.refusal_on:
        over.append(("implicit_refusal", found.refusal_on))
    for name, day in (("cada_referral", found.referral_by),
                      ("cada_opinion", found.opinion_expected),
                      ("administration_reply", found.reply_expected)):
        if day is not None and today > day:
            over.append((name, day))
    return over
