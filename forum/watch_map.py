"""The national map of /watch: a simplified outline of France shipped with the project
(static/map/france.json) and one mark per city, drawn by the server as SVG by
templates/watch/_map.html — no tiles, no script, nothing asked of another host.

Where a city is: the coordinates of its population finding (its town hall), else the small
table below (the demo's cities), else the middle of its located findings.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from forum import i18n
from forum.models.findings import POPULATION, Finding
from forum.templating import STATIC
from forum.watch import CityRow, format_figure, format_observed

OUTLINE = STATIC / "map" / "france.json"
# The frame (longitudes, latitudes) and the drawing's width; the height follows.
WEST, EAST, SOUTH, NORTH = -5.4, 9.8, 41.2, 51.3
MAP_WIDTH = 560
MARK_MIN, MARK_MAX = 4.0, 22.0  # radius in pixels: no figure, the largest figure
_MIDDLE = math.cos(math.radians((SOUTH + NORTH) / 2))  # longitudes shrink northwards
_SCALE = MAP_WIDTH / ((EAST - WEST) * _MIDDLE)
MAP_HEIGHT = round((NORTH - SOUTH) * _SCALE)
# Town halls of the demo's cities (latitude, longitude), for cities without a located
# population finding.
CITY_PLACES: dict[str, tuple[float, float]] = {
    "metz": (49.1197, 6.1764), "saint-etienne": (45.4397, 4.3872),
    "montpellier": (43.5995, 3.8967), "grenoble": (45.1866, 5.7360),
}


@dataclass(frozen=True)
class Mark:
    board_slug: str
    board_name: str
    x: float
    y: float
    radius: float
    figure: Finding | None  # the headline that sizes it; None: the city has none of that kind
    label: str  # "Metz · 148" beside the mark
    title: str  # the mark's tooltip: city, figure, kind and date
    label_x: float
    anchor: str  # 'start' (label on the right) or 'end' (on the left)


@dataclass(frozen=True)
class Map:
    width: int
    height: int
    outline: tuple[str, ...]  # SVG path data, one per polygon
    marks: tuple[Mark, ...]
    kind_label: str  # what the marks' sizes show (a kind's label, a msgid for built-ins)


def project(latitude: float, longitude: float) -> tuple[float, float]:
    """Longitude and latitude to the drawing's pixels (equirectangular, fine at this size)."""
    return (longitude - WEST) * _MIDDLE * _SCALE, (NORTH - latitude) * _SCALE


@lru_cache(maxsize=1)
def outline() -> tuple[str, ...]:
    """The outline's polygons as SVG path data, read once."""
    polygons = json.loads(OUTLINE.read_text(encoding="utf-8"))["polygons"]
    paths = []
    for polygon in polygons:
        points = [project(lat, lon) for lon, lat in polygon]
        paths.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) + " Z")
    return tuple(paths)


def city_positions(findings: Iterable[Finding]) -> dict[str, tuple[float, float]]:
    """Where each city is, from its findings (see the module's docstring)."""
    located: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.latitude is not None and finding.longitude is not None:
            located.setdefault(finding.board_slug, []).append(finding)
    positions = dict(CITY_PLACES)
    for slug, group in located.items():
        town_hall = [f for f in group if f.kind_slug == POPULATION]
        if town_hall:
            latest = max(town_hall, key=lambda f: (f.observed, f.id))
            positions[slug] = (latest.latitude or 0.0, latest.longitude or 0.0)
        elif slug not in positions:
            positions[slug] = (sum(f.latitude or 0.0 for f in group) / len(group),
                               sum(f.longitude or 0.0 for f in group) / len(group))
    return positions


def national_map(rows: list[CityRow], positions: dict[str, tuple[float, float]],
                 kind_id: int | None, kind_label: str) -> Map:
    """One mark per city of the table that has a place, sized by its headline count of
    `kind_id` (area proportional to the figure); cities without one get the smallest mark."""
    figures = {row.board_slug: row.cells.get(kind_id or 0) for row in rows}
    values = [f.quantity for f in figures.values()
              if f is not None and f.unit == "count" and f.quantity]
    largest = max(values, default=0.0)
    marks = []
    for row in rows:
        if row.board_slug not in positions:
            continue
        x, y = project(*positions[row.board_slug])
        figure = figures[row.board_slug]
        if figure is not None and (figure.unit != "count" or not figure.quantity):
            figure = None  # an amount or a status does not size a mark
        radius = MARK_MIN if figure is None else MARK_MIN + (MARK_MAX - MARK_MIN) * math.sqrt(
            (figure.quantity or 0.0) / largest)
        marks.append(_mark(row, x, y, radius, figure, kind_label))
    # The largest drawn first: small marks stay visible on top of large ones.
    marks.sort(key=lambda mark: -mark.radius)
    return Map(MAP_WIDTH, MAP_HEIGHT, outline(), tuple(_place_labels(marks)), kind_label)


LABEL_CHAR_WIDTH, LABEL_HEIGHT = 7.5, 14  # at the stylesheet's 13px, bold


def _place_labels(marks: list[Mark]) -> list[Mark]:
    """Each label on the side of its mark (right, else left) where it covers no other mark
    nor a label already placed; the right when both do (a crowded map keeps its table).

    Marks and placed labels are kept in a grid of GRID pixels: each label is checked against
    its neighbours only (400 cities stay a few milliseconds).
    """
    marks_at: dict[tuple[int, int], list[Mark]] = {}
    for mark in marks:
        for cell in _cells((mark.x - mark.radius, mark.y - mark.radius,
                            mark.x + mark.radius, mark.y + mark.radius)):
            marks_at.setdefault(cell, []).append(mark)
    labels_at: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}
    result = []
    for mark in marks:
        width = LABEL_CHAR_WIDTH * len(mark.label)
        sides = [(mark.x + mark.radius + 3, "start"), (mark.x - mark.radius - 3, "end")]
        if mark.x + mark.radius + 3 + width > MAP_WIDTH:
            sides.reverse()
        boxes = [(_box(x, anchor, width, mark.y), x, anchor) for x, anchor in sides]

        def free(box: tuple[float, float, float, float], mark: Mark = mark) -> bool:
            cells = _cells(box)
            return not any(_overlaps(box, other) for cell in cells
                           for other in labels_at.get(cell, ())) and not any(
                _covers(box, other) for cell in cells for other in marks_at.get(cell, ())
                if other is not mark)

        box, label_x, anchor = next((choice for choice in boxes if free(choice[0])), boxes[0])
        for cell in _cells(box):
            labels_at.setdefault(cell, []).append(box)
        result.append(replace(mark, label_x=label_x, anchor=anchor))
    return result


GRID = 40  # pixels


def _cells(box: tuple[float, float, float, float]) -> list[tuple[int, int]]:
    return [(column, row) for column in range(int(box[0] // GRID), int(box[2] // GRID) + 1)
            for row in range(int(box[1] // GRID), int(box[3] // GRID) + 1)]


def _box(x: float, anchor: str, width: float, y: float) -> tuple[float, float, float, float]:
    left = x if anchor == "start" else x - width
    return left, y - LABEL_HEIGHT / 2, left + width, y + LABEL_HEIGHT / 2


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]
              ) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _covers(box: tuple[float, float, float, float], mark: Mark) -> bool:
    nearest_x = min(max(mark.x, box[0]), box[2])
    nearest_y = min(max(mark.y, box[1]), box[3])
    return math.hypot(mark.x - nearest_x, mark.y - nearest_y) < mark.radius


def _mark(row: CityRow, x: float, y: float, radius: float, figure: Finding | None,
          kind_label: str) -> Mark:
    if figure is None:
        label = row.board_name
        title = i18n.gettext("%(city)s: no total for %(kind)s", city=row.board_name,
                             kind=i18n.gettext(kind_label))
    else:
        label = f"{row.board_name} · {format_figure(figure)}"
        title = i18n.gettext("%(city)s: %(figure)s, %(kind)s (%(date)s)", city=row.board_name,
                             figure=format_figure(figure), kind=i18n.gettext(kind_label),
                             date=format_observed(figure.observed))
    return Mark(row.board_slug, row.board_name, x, y, radius, figure, label, title,
                x + radius + 3, "start")  # the side is chosen once every mark is known
