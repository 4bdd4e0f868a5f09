"""What a list, an export or the API asks of the findings, as a SQL condition."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Filters:
    """What a list, an export or the API asks for; dates compare at their own precision."""
    board_id: int | None = None
    kind_id: int | None = None
    status: str | None = None
    since: str | None = None  # 2014, 2014-11 or 2014-11-05: findings observed from then on
    until: str | None = None  # findings observed up to then (2019 takes in all of 2019)
    located: bool = False  # only those with coordinates (a map, a GeoJSON file)
    scope: str | None = None  # 'total', 'change' or 'part'

    def sql(self) -> tuple[str, tuple[object, ...]]:
        parts: list[str] = []
        params: list[object] = []
        for column, value in (("findings.board_id", self.board_id),
                              ("findings.kind_id", self.kind_id),
                              ("findings.status", self.status),
                              ("findings.scope", self.scope)):
            if value is not None:
                parts.append(f"{column} = ?")
                params.append(value)
        if self.since:
            parts.append("substr(observed, 1, length(?)) >= ?")
            params += [self.since, self.since]
        if self.until:
            parts.append("substr(observed, 1, length(?)) <= ?")
            params += [self.until, self.until]
        if self.located:
            parts.append("findings.latitude is not null")
        return " and ".join(parts) or "(1 = 1)", tuple(params)  # permissions.EVERYTHING
