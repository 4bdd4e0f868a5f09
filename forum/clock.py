"""Times as ISO 8601 UTC text, the form the database stores."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def today() -> date:
    """The local calendar day: records requests' deadlines count in days."""
    return date.today()


def now() -> str:
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def later(**delta: float) -> str:
    return iso(datetime.now(UTC) + timedelta(**delta))
