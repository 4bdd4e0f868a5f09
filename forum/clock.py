"""Times as ISO 8601 UTC text, the form the database stores."""
from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

# now() is asked several times per request (sessions, suspensions): the text of the current
# second is made once, and only its milliseconds per call. One tuple, read and replaced whole,
# so that a thread never pairs a second with another second's text.
_second: tuple[int, str] = (0, "")


def now() -> str:
    global _second
    moment = time.time()
    whole = int(moment)
    second, text = _second
    if whole != second:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second = (whole, text)
    return f"{text}.{int((moment - whole) * 1000):03d}Z"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def later(**delta: float) -> str:
    return iso(datetime.now(UTC) + timedelta(**delta))


def today() -> date:
    """The local calendar day: records requests' deadlines count in days."""
    return date.today()
