"""What the watch pages compute from findings: the latest figure per kind, the timelines
drawn as SVG by templates/watch/_chart.html, the national table, and how figures read.

Pure functions over lists of findings (a city holds dozens, the country a few thousands).
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_decimal

from forum import i18n
from forum.i18n import N_
from forum.models.findings import (
    CHANGE,
    PART,
    PER_INHABITANTS,
    POPULATION,
    SCOPE_LABELS,
    STATUS_LABELS,
    TOTAL,
    UNIT_SYMBOLS,
    Finding,
    year_fraction,
)
from forum.text import sort_key

# Planned figures are promises, not equipment: listed, never drawn on a timeline.
NOT_CHARTED = ("planned",)
CHART_MIN_POINTS = 2  # one figure is no timeline: it is in the latest figures and the list
# When a kind has several figures of the same date, the one that sums it up best.
HEADLINE_UNITS = ("days", "percent", "eur", "eur-per-year", "eur-per-device-per-year", "km2",
                  "agents", "devices-per-10k", "count")
CHART_WIDTH, CHART_HEIGHT = 640, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 24, 20, 36


def is_total(finding: Finding) -> bool:
    """A figure for the whole city (or a finding without a figure: a status, a vote). Only
    these make headlines, timelines, the national table and comparisons."""
    return finding.quantity is None or finding.scope == TOTAL


def headline(findings: Iterable[Finding]) -> Finding | None:
    """The figure that sums up one kind in one city: the latest total count of devices if
    any, else the latest total or status whatever it says (an amount, a vote). Changes and
    parts never: one new dome in a street is not the city's equipment."""
    ordered = sorted((f for f in findings if is_total(f)), key=lambda f: (
        f.observed, HEADLINE_UNITS.index(f.unit) if f.unit else -1, f.id))
    counts = [f for f in ordered if f.unit == "count" and f.status not in NOT_CHARTED]
    charted = counts or ordered
    return charted[-1] if charted else None


def latest_per_kind(findings: Iterable[Finding]) -> list[Finding]:
    """One headline per kind of equipment, in the kinds' order of the list given."""
    return [found for group in _by_kind(findings).values()
            if (found := headline(group)) is not None]


def _by_kind(findings: Iterable[Finding]) -> dict[int, list[Finding]]:
    by_kind: dict[int, list[Finding]] = {}
    for finding in findings:
        by_kind.setdefault(finding.kind_id, []).append(finding)
    return by_kind


@dataclass(frozen=True)
class Since:
    """Changes recorded after a headline total, of its kind and unit: shown as "148 + 3
    since" with their own label, never added into the total."""
    net: float
    changes: tuple[Finding, ...]

    @property
    def first_observed(self) -> str:
        return self.changes[0].observed

    def figure(self) -> str:
        """The net change, signed: "+3", "-2" (summed among changes, never into the total)."""
        text = format_quantity(self.net, self.changes[0].unit)
        return "+" + text if self.net >= 0 else text


def changes_since(findings: Iterable[Finding], total: Finding) -> Since | None:
    """The changes of the total's kind and unit dated after it, oldest first (None if none)."""
    if total.quantity is None or total.scope != TOTAL:
        return None
    after = sorted((f for f in findings if f.scope == CHANGE and f.kind_id == total.kind_id
                    and f.unit == total.unit and f.status not in NOT_CHARTED
                    and year_fraction(f.observed) > year_fraction(total.observed)),
                   key=lambda f: (year_fraction(f.observed), f.id))
    if not after:
        return None
    return Since(sum(f.quantity or 0 for f in after), tuple(after))


def beside_totals(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    """The changes and parts of a city, under their kind's name, newest first: listed beside
    the totals, not counted in them."""
    groups: dict[int, tuple[str, list[Finding]]] = {}
    for finding in findings:
        if finding.scope in (CHANGE, PART):
            groups.setdefault(finding.kind_id, (finding.kind_label, []))[1].append(finding)
    return [(label, sorted(items, key=lambda f: (year_fraction(f.observed), f.id),
                           reverse=True)) for label, items in groups.values()]


@dataclass(frozen=True)
class Point:
    finding: Finding
    x: float  # in the chart's pixels
    y: float


@dataclass(frozen=True)
class Tick:
    position: float  # pixels along the axis
    label: str


@dataclass(frozen=True)
class Event:
    """A change marked on a timeline at its date (not a point of the line)."""
    finding: Finding
    x: float


@dataclass(frozen=True)
class Series:
    """One timeline: the totals of a kind with the same unit, oldest first, and the changes
    of that kind and unit (events on the line, never points)."""
    kind_slug: str
    kind_label: str
    unit: str
    findings: tuple[Finding, ...]
    changes: tuple[Finding, ...] = ()

    @property
    def id(self) -> str:
        return f"chart-{self.kind_slug}-{self.unit}"


@dataclass(frozen=True)
class Chart:
    series: Series
    width: int
    height: int
    points: tuple[Point, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    baseline: float  # y of zero
    left: int
    right: int
    events: tuple[Event, ...] = ()

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def series(findings: Iterable[Finding]) -> list[Series]:
    """The timelines of a city: one per kind and unit, from its totals; the changes of the
    same kind and unit ride along as events. Parts are not drawn."""
    groups: dict[tuple[int, str], list[Finding]] = {}
    changes: dict[tuple[int, str], list[Finding]] = {}
    for finding in findings:
        if finding.quantity is None or finding.unit is None or finding.status in NOT_CHARTED:
            continue
        if finding.scope == TOTAL:
            groups.setdefault((finding.kind_id, finding.unit), []).append(finding)
        elif finding.scope == CHANGE:
            changes.setdefault((finding.kind_id, finding.unit), []).append(finding)
    return [Series(group[0].kind_slug, group[0].kind_label, unit,
                   tuple(sorted(group, key=lambda f: (f.observed, f.id))),
                   tuple(sorted(changes.get((kind, unit), []),
                                key=lambda f: (f.observed, f.id))))
            for (kind, unit), group in groups.items()]


def single_figures(lines: list[Series], headlines: list[Finding]) -> list[Finding]:
    """Totals with no timeline (one figure of their kind and unit, e.g. 21 km² covered) that
    are not a headline: shown on their own rather than dropped."""
    shown = {finding.id for finding in headlines}
    return [line.findings[-1] for line in lines
            if len(line.findings) < CHART_MIN_POINTS and line.findings[-1].id not in shown]


def chart(line: Series, width: int = CHART_WIDTH, height: int = CHART_HEIGHT) -> Chart:
    """Where each point, tick and label goes: time runs left to right, zero at the bottom."""
    years = [year_fraction(f.observed) for f in line.findings]
    every_year = years + [year_fraction(f.observed) for f in line.changes]
    first, last = math.floor(min(every_year)), math.floor(max(every_year)) + 1
    step = nice_step(max(f.quantity or 0 for f in line.findings) * 1.1 / 4)  # room above
    top = step * 4
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM

    def x(year: float) -> float:
        return _LEFT + (year - first) / (last - first) * plot_w

    def y(value: float) -> float:
        return _TOP + plot_h - value / top * plot_h

    points = tuple(Point(f, x(year), y(f.quantity or 0))
                   for f, year in zip(line.findings, years, strict=True))
    every = max(1, math.ceil((last - first) / 8))  # years between two labels
    x_ticks = tuple(Tick(x(year), str(year)) for year in range(first, last + 1, every))
    y_ticks = tuple(Tick(y(step * i), format_quantity(step * i, None)) for i in range(5))
    events = tuple(Event(f, x(year_fraction(f.observed))) for f in line.changes)
    return Chart(line, width, height, points, x_ticks, y_ticks, y(0), _LEFT, width - _RIGHT,
                 events)


def nice_step(value: float) -> float:
    """The round tick step just above value: 40.7 -> 50, 90.5 -> 100, 6.2 -> 10, 0.33 -> 0.5."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def side_by_side(left: Series, right: Series) -> list[tuple[str, Finding | None, Finding | None]]:
    """Two cities' timelines in one: every date of either, oldest first, with each city's
    figure then (None when only the other has one). The compare page's table."""
    lefts = {f.observed: f for f in left.findings}  # same date twice: the latest entered wins
    rights = {f.observed: f for f in right.findings}
    return [(observed, lefts.get(observed), rights.get(observed))
            for observed in sorted(lefts.keys() | rights.keys(),
                                   key=lambda o: (year_fraction(o), o))]


# Per inhabitant --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rate:
    """A total count per PER_INHABITANTS inhabitants, with the two figures it comes from (and
    so their dates, which a reader must see: 148 cameras in 2020 over the 2021 population)."""
    figure: Finding
    population: Finding

    @property
    def value(self) -> float:
        return (self.figure.quantity or 0.0) / (self.population.quantity or 1.0) * PER_INHABITANTS

    def text(self) -> str:
        """'12,2': one decimal, a rate is not a count."""
        return format_quantity(round(self.value, 1), None)


def population(findings: Iterable[Finding]) -> Finding | None:
    """A city's latest total population (a finding of kind 'population'), if any."""
    return headline(f for f in findings if f.kind_slug == POPULATION and f.unit == "count")


def per_inhabitants(figure: Finding | None, people: Finding | None) -> Rate | None:
    """The rate where both figures exist: a total count of equipment and a population > 0."""
    if (figure is None or people is None or figure.kind_slug == POPULATION
            or figure.unit != "count" or figure.scope != TOTAL or figure.quantity is None
            or not people.quantity or people.quantity <= 0):
        return None
    return Rate(figure, people)


# The national table ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CityRow:
    board_slug: str
    board_name: str
    cells: dict[int, Finding]  # kind id -> headline
    population: Finding | None = None

    def rate(self, kind_id: int | None) -> Rate | None:
        return per_inhabitants(self.cells.get(kind_id or 0), self.population)


def national_table(findings: Iterable[Finding]) -> list[CityRow]:
    """Cities × kinds of equipment, each cell the headline figure; cities by name."""
    by_city: dict[str, list[Finding]] = {}
    names: dict[str, str] = {}
    for finding in findings:
        by_city.setdefault(finding.board_slug, []).append(finding)
        names[finding.board_slug] = finding.board_name
    rows = []
    for slug, group in by_city.items():
        cells = {f.kind_id: f for f in latest_per_kind(group)}
        rows.append(CityRow(slug, names[slug], cells, population(group)))
    return sorted(rows, key=lambda row: sort_key(row.board_name))


def sort_rows(rows: list[CityRow], kind_id: int | None, descending: bool,
              per_inhabitant: bool = False) -> list[CityRow]:
    """By one kind's figure, or its rate per inhabitants (cities without one last, whatever
    the order), else by name."""
    if kind_id is None:
        return sorted(rows, key=lambda row: sort_key(row.board_name), reverse=descending)

    def value(row: CityRow) -> float | None:
        if per_inhabitant:
            rate = row.rate(kind_id)
            return None if rate is None else rate.value
        return _figure(row, kind_id)

    with_figure = [row for row in rows if value(row) is not None]
    without = [row for row in rows if value(row) is None]
    with_figure.sort(key=lambda row: value(row) or 0.0, reverse=descending)
    return with_figure + without


def _figure(row: CityRow, kind_id: int) -> float | None:
    cell = row.cells.get(kind_id)
    return None if cell is None or cell.unit != "count" else cell.quantity


# How figures read -----------------------------------------------------------------------------

def format_quantity(quantity: float | None, unit: str | None, locale: str | None = None) -> str:
    """148 -> '148'; 250000 € -> '250 000 €'; 1.2 % -> '1,2 %' (French spacing)."""
    if quantity is None:
        return ""
    return _format_quantity(quantity, unit, locale or i18n.current_locale.get())


@lru_cache(maxsize=8192)
def _format_quantity(quantity: float, unit: str | None, locale: str) -> str:
    # Babel's number formatting is most of a watch page's render time; figures repeat.
    number = format_decimal(quantity, format="#,##0.##", locale=locale)
    symbol = UNIT_SYMBOLS.get(unit or "", "")
    if not symbol:
        return number
    symbol = i18n.gettext(symbol) if symbol not in ("€", "km²", "%") else symbol
    if locale == "en" and symbol in ("€",):
        return f"€{number}"
    return f"{number}\u00a0{symbol}"


def format_figure(finding: Finding) -> str:
    """A finding's quantity as it reads: a change is signed ("+3", "-2"), never mistaken for
    a total."""
    text = format_quantity(finding.quantity, finding.unit)
    if finding.scope == CHANGE and finding.quantity is not None and finding.quantity >= 0:
        return "+" + text
    return text


def scope_label(scope: str | None) -> str:
    """'total for the city', 'change (added or removed)', 'part (one place…)'; '' for none."""
    return i18n.gettext(SCOPE_LABELS[scope]) if scope in SCOPE_LABELS else ""


def plain_number(value: float | None) -> int | float | None:
    """148.0 -> 148, 1.2 -> 1.2: what JSON and CSV show, without a trailing .0."""
    if value is None:
        return None
    return int(value) if value.is_integer() else value


def number_text(value: float | None) -> str:
    """A number as a spreadsheet reads it: 148, 1.2, 0.00001 (never 1e-05), "" for none."""
    number = plain_number(value)
    if number is None:
        return ""
    return str(number) if isinstance(number, int) else format(Decimal(repr(number)), "f")


def format_observed(observed: str, locale: str | None = None) -> str:
    """2008 -> '2008'; 2014-11 -> 'novembre 2014'; 2020-03-10 -> '10 mars 2020'."""
    return _format_observed(observed, locale or i18n.current_locale.get())


@lru_cache(maxsize=4096)
def _format_observed(observed: str, locale: str) -> str:
    parts = [int(part) for part in observed.split("-")]
    if len(parts) == 1:
        return str(parts[0])
    if len(parts) == 2:
        return format_date(date(parts[0], parts[1], 1), "MMMM y", locale=locale)
    return format_date(date(*parts), "long", locale=locale)


def status_label(status: str) -> str:
    return i18n.gettext(STATUS_LABELS[status])


# The built-in kinds in the singular, for "1 caméra de vidéosurveillance" (issue 16). Kinds an
# administrator adds have one label: they read the same for every quantity.
KIND_SINGULARS = {  # N_: extracted, translated as plural entries (singular, plural)
    "Video-surveillance cameras": N_("Video-surveillance camera"),
    "Thermal cameras": N_("Thermal camera"), "Sound sensors": N_("Sound sensor"),
    "Drones": N_("Drone"), "Licence-plate readers": N_("Licence-plate reader"),
    "Body cameras": N_("Body camera"),
}


def kind_label_for(label: str, quantity: float | None) -> str:
    """A kind's name agreeing with a quantity: singular for 1 (and for 0 in French), as
    ngettext decides per language; the plural name when there is no quantity."""
    singular = KIND_SINGULARS.get(label)
    if singular is None or quantity is None or quantity != int(quantity):
        return i18n.gettext(label)
    return i18n.ngettext(singular, label, abs(int(quantity)))
