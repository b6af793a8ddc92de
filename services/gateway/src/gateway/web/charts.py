"""Server-rendered charts of the dashboards (issue 18): a figure's numbers become shapes (rectangles, lines, texts
with their coordinates), which ``_chart.html.j2`` writes as an inline SVG. Nothing here is markup: the template
prints every label through Jinja's escaping, so a structure named ``<script>`` stays text in the chart.

Readable without colour: every series has its own pattern (plain, hatched, dotted…) or marker shape, values and
labels are written on the chart, and the legend names each pattern. The SVG has a viewBox, so it shrinks with the
page; it draws with presentation attributes only (the CSP forbids inline styles).

Readable on a phone: an SVG's texts shrink with it, and a chart 640 wide drawn on a 375 px screen had labels about
6 px tall. So each figure has two charts, the page's stylesheet showing one: the wide one from 700 px (never
shrunk: its texts are drawn at their size, 12 at least), and a narrow one, 300 wide, below (on a 320 px screen,
288 px: its texts of 13 are 12.5 px). The narrow one draws columns as bars (a label over each bar, never squeezed
side by side), names fewer months under a line, and writes each line's last value under the chart rather than at
its end.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from contracts.pilotage import Figure, Point

WIDTH = 640
NARROW = 300
NARROW_SUFFIX = "-etroit"
SMALLEST = 12  # the smallest text of the wide chart, drawn unscaled
NARROW_SMALLEST = 13  # of the narrow chart, shrunk to 288/300 on the narrowest screen
# High contrast on white (at least 4.5:1 each), told apart by their patterns too.
COLOURS = ("#000091", "#b34000", "#18753c", "#6e445a", "#3a3a3a", "#0063cb")
PATTERNS = ("solid", "hatch", "dots", "cross", "hlines", "vlines")
MARKERS = ("circle", "square", "diamond", "triangle", "circle", "square")
DASHES = ("", "8 4", "2 3", "10 3 2 3", "", "8 4")
INK = "#161616"
GRID = "#929292"


@dataclass(frozen=True)
class Pattern:
    id: str
    kind: str
    colour: str

    @property
    def fill(self) -> str:
        return self.colour if self.kind == "solid" else f"url(#{self.id})"


@dataclass(frozen=True)
class Mark:
    """A bar or a bar's segment; ``href`` the list behind it ("" when it has none)."""

    x: float
    y: float
    width: float
    height: float
    fill: str
    stroke: str
    href: str
    label: str  # what a tooltip and a screen reader say: « Structure A, Accompagné : 12 »


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"
    size: int = 13
    bold: bool = False


@dataclass(frozen=True)
class Rule:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str = GRID
    width: float = 1
    dash: str = ""


@dataclass(frozen=True)
class Polyline:
    points: str
    colour: str
    dash: str = ""


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    shape: str
    colour: str
    href: str
    label: str

    @property
    def path(self) -> str:
        """The marker's outline (a square, a diamond, a triangle) around its centre; circles use ``x``/``y``."""
        s = 5
        if self.shape == "square":
            return f"M{self.x - s:.1f},{self.y - s:.1f}h{2 * s}v{2 * s}h{-2 * s}z"
        if self.shape == "diamond":
            return f"M{self.x:.1f},{self.y - s - 1:.1f}l{s + 1},{s + 1}l{-s - 1},{s + 1}l{-s - 1},{-s - 1}z"
        return f"M{self.x:.1f},{self.y - s - 1:.1f}l{s + 1},{2 * s + 1}h{-2 * s - 2}z"


@dataclass(frozen=True)
class LegendEntry:
    x: float
    y: float
    fill: str
    stroke: str
    shape: str  # "box" for bars, a marker shape for lines
    text: str
    dash: str = ""

    @property
    def path(self) -> str:
        return Marker(self.x + 9, self.y + 7, self.shape, self.stroke, "", "").path


@dataclass
class Chart:
    id: str
    title: str
    desc: str
    height: float
    width: int = WIDTH
    patterns: list[Pattern] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    lines: list[Polyline] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    legend: list[LegendEntry] = field(default_factory=list)
    empty: bool = False
    narrow: bool = False

    @property
    def smallest(self) -> int:
        return NARROW_SMALLEST if self.narrow else SMALLEST

    def text(self, x: float, y: float, text: str, anchor: str = "start", size: int = 13, bold: bool = False) -> None:
        """A text of at least the chart's smallest size."""
        self.texts.append(Text(x, y, text, anchor, max(size, self.smallest), bold))


def number(value: float) -> str:
    """« 1 234 », « 12,5 »."""
    if value == int(value):
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")


def drill_href(point: Point, to_query) -> str:
    """The list behind a point (``to_query``: the filters as a query string), "" without one: the beneficiaries'
    list, or the actions' (« actions par thème et statut » counts actions), or the imports' page of a kind
    (« Imports et flux »: that page lists the caller's scope)."""
    if point.drill_list == "imports":
        kind = point.drill_import_kind
        return LIST_PATHS["imports"] + (f"?{urlencode({'kind': kind.value})}" if kind else "")
    if point.drill is None:
        return ""
    query = to_query(point.drill)
    if point.drill_deployment_id is not None:
        query = "&".join(part for part in (query, urlencode({"deployment_id": str(point.drill_deployment_id)}))
                         if part)
    path = LIST_PATHS[point.drill_list]
    return f"{path}?{query}" if query else path


LIST_PATHS = {"beneficiaries": "/beneficiaires/requetes", "actions": "/pilotage/actions", "imports": "/imports"}


def categories(figure: Figure) -> list[str]:
    """Every point label across the series, in the order they first appear."""
    seen: dict[str, None] = {}
    for series in figure.series:
        for point in series.points:
            seen.setdefault(point.label, None)
    return list(seen)


def patterns_of(figure: Figure, suffix: str = "") -> list[Pattern]:
    """Its own ids per chart: a page holds a figure's wide and narrow charts."""
    return [Pattern(f"{figure.key}{suffix}-p{i}", PATTERNS[i % len(PATTERNS)], COLOURS[i % len(COLOURS)])
            for i in range(max(len(figure.series), 1))]


def legend_of(figure: Figure, patterns: list[Pattern], y: float, shapes: bool = False,
              chart_width: int = WIDTH) -> tuple[list[LegendEntry], float]:
    """One entry per series (when there are several), wrapped over lines of the chart's width."""
    if len(figure.series) < 2:
        return [], y
    entries, x = [], 4.0
    for index, series in enumerate(figure.series):
        width = 32 + 7.5 * len(series.name)
        if x > 4 and x + width > chart_width:
            x, y = 4.0, y + 22
        entries.append(LegendEntry(x, y, patterns[index].fill, patterns[index].colour,
                                   MARKERS[index % len(MARKERS)] if shapes else "box", series.name,
                                   DASHES[index % len(DASHES)] if shapes else ""))
        x += width + 16
    return entries, y + 30


def chart_of(figure: Figure, to_query, *, narrow: bool = False) -> Chart:
    """The shapes of a figure's chart: horizontal bars (``bar``, ``stacked``), columns (``histogram``, bars when
    ``narrow``) or lines; ``narrow``: the chart for a phone (see the module's docstring)."""
    suffix = NARROW_SUFFIX if narrow else ""
    chart = Chart(id=f"chart-{figure.key}{suffix}", title=figure.title, desc=description(figure), height=60,
                  width=NARROW if narrow else WIDTH, narrow=narrow)
    chart.patterns = patterns_of(figure, suffix)
    labels = categories(figure)
    if not labels or not any(p.value for s in figure.series for p in s.points):
        chart.empty = True
        chart.text(0, 30, "Aucune donnée sur la période.")
        return chart
    if figure.kind == "line":
        return line_chart(chart, figure, labels, to_query)
    if figure.kind == "histogram" and not narrow:
        return column_chart(chart, figure, labels, to_query)
    return bar_chart(chart, figure, labels, to_query)


def wrapped(text: str, size: int, width: float) -> list[str]:
    """``text`` cut between words into lines that fit ``width`` at ``size`` (an SVG text never wraps itself)."""
    most = max(int(width / (size * 0.6)), 8)
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= most:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def description(figure: Figure) -> str:
    """The chart in words (its ``<desc>``): each category with its values."""
    parts = []
    for label in categories(figure):
        values = [f"{s.name} {shown(p)}" if len(figure.series) > 1 else shown(p)
                  for s in figure.series for p in s.points if p.label == label]
        parts.append(f"{label} : {', '.join(values)}")
    text = " ; ".join(parts)
    return f"{figure.summary} {text}".strip() if figure.summary else text


MISSING = "pas de relevé"


def shown(point: Point) -> str:
    """A point's value in words: its number, or « pas de relevé » when none was recorded (never a false 0)."""
    return MISSING if point.missing else number(point.value)


def point_of(series, label: str) -> Point | None:
    return next((p for p in series.points if p.label == label), None)


def bar_chart(chart: Chart, figure: Figure, labels: list[str], to_query) -> Chart:
    """A row per category: its label above, its bar (one per series, or one stacked bar), the value at the end;
    a stacked bar writes each segment's value under it, so that no value is told by colour alone."""
    stacked = figure.kind == "stacked" and len(figure.series) > 1
    chart.legend, y = legend_of(figure, chart.patterns, 8, chart_width=chart.width)
    if stacked:
        largest = max(sum((point_of(s, label).value if point_of(s, label) else 0) for s in figure.series)
                      for label in labels)
    else:
        largest = max(p.value for s in figure.series for p in s.points)
    scale = (chart.width - 90) / largest if largest else 0
    for label in labels:
        for line in wrapped(label, chart.smallest, chart.width) if chart.narrow else [label]:
            chart.text(0, y + 13, line, bold=True)
            y += 20
        if stacked:
            x, details = 0.0, []
            for index, series in enumerate(figure.series):
                point = point_of(series, label)
                if point is None or not point.value:
                    continue
                width = point.value * scale
                chart.marks.append(Mark(x, y, max(width, 1), 22, chart.patterns[index].fill,
                                        chart.patterns[index].colour, drill_href(point, to_query),
                                        f"{label}, {series.name} : {number(point.value)}"))
                x += width
                details.append(f"{series.name} {number(point.value)}")
            chart.text(x + 6, y + 16, number(sum(
                point_of(s, label).value for s in figure.series if point_of(s, label))), bold=True)
            details_lines = wrapped(" · ".join(details), chart.smallest, chart.width) if chart.narrow \
                else [" · ".join(details)]
            for index, line in enumerate(details_lines):
                chart.text(0, y + 38 + 18 * index, line, size=12)
            y += 54 + 18 * (len(details_lines) - 1)
        else:
            for index, series in enumerate(figure.series):
                point = point_of(series, label)
                if point is None:
                    continue
                width = point.value * scale
                chart.marks.append(Mark(0, y, max(width, 1), 20, chart.patterns[index].fill,
                                        chart.patterns[index].colour, drill_href(point, to_query),
                                        f"{label}, {series.name} : {number(point.value)}"))
                prefix = f"{series.name} : " if len(figure.series) > 1 else ""
                chart.text(width + 6, y + 15, f"{prefix}{number(point.value)}", bold=True)
                y += 24
            y += 12
    chart.height = y + 4
    return chart


def column_chart(chart: Chart, figure: Figure, labels: list[str], to_query) -> Chart:
    """Columns side by side (a histogram of delays or ages): the value above each, the bucket below."""
    chart.legend, top = legend_of(figure, chart.patterns, 8, chart_width=chart.width)
    top += 24
    plot = 180
    base = top + plot
    largest = max(p.value for s in figure.series for p in s.points) or 1
    slot = chart.width / len(labels)
    series_count = max(len(figure.series), 1)
    width = min((slot - 16) / series_count, 80)
    chart.rules.append(Rule(0, base, chart.width, base, INK))
    for i, label in enumerate(labels):
        left = i * slot + (slot - width * series_count) / 2
        for index, series in enumerate(figure.series):
            point = point_of(series, label)
            if point is None:
                continue
            height = point.value / largest * plot
            x = left + index * width
            chart.marks.append(Mark(x, base - height, width - 2, max(height, 1), chart.patterns[index].fill,
                                    chart.patterns[index].colour, drill_href(point, to_query),
                                    f"{label}, {series.name} : {number(point.value)}"))
            chart.text(x + width / 2, base - height - 6, number(point.value), "middle", bold=True)
        words = label.split(" ")
        middle = len(words) // 2 if len(label) > 14 else len(words)
        chart.text(i * slot + slot / 2, base + 18, " ".join(words[:middle]), "middle", 12)
        if words[middle:]:
            chart.text(i * slot + slot / 2, base + 34, " ".join(words[middle:]), "middle", 12)
    chart.height = base + 44
    return chart


def line_chart(chart: Chart, figure: Figure, labels: list[str], to_query) -> Chart:
    """A line per series over the months, each with its marker shape and dash, named at its end with its last
    value; the y axis has its zero and its largest value."""
    chart.legend, top = legend_of(figure, chart.patterns, 8, shapes=True, chart_width=chart.width)
    top += 16
    # Narrow: the last values go under the chart, the lines take its width.
    left, right, plot = (48, chart.width - 24, 160) if chart.narrow else (48, WIDTH - 215, 200)
    base = top + plot
    largest = max((p.value for s in figure.series for p in s.points if not p.missing), default=0) or 1
    step = (right - left) / max(len(labels) - 1, 1)
    chart.rules += [Rule(left, base, right, base, INK), Rule(left, top, right, top, GRID, dash="4 4")]
    chart.text(left - 6, base + 4, "0", "end", 12)
    chart.text(left - 6, top + 4, number(largest), "end", 12)
    # A month's name every ``every`` months, at least about 50 units apart (« sept. » at 12 or 13).
    every = next(n for n in (1, 2, 3, 6, 12, 24) if n * step >= 50 or n == 24)
    for i, label in enumerate(labels):
        if i % every == 0 or (i == len(labels) - 1 and (i % every) * step >= 50):
            month, _, year = label.partition(" ")
            chart.text(left + i * step, base + 16, month, "middle", 12)
            chart.text(left + i * step, base + 31, year, "middle", 12)
    ends = []
    for index, series in enumerate(figure.series):
        colour = COLOURS[index % len(COLOURS)]
        shape = MARKERS[index % len(MARKERS)]
        # A month without a record breaks the line: no point, and no segment drawn across it.
        segments: list[list[tuple[float, float]]] = [[]]
        last = None
        for i, label in enumerate(labels):
            point = point_of(series, label)
            if point is None or point.missing:
                if segments[-1]:
                    segments.append([])
                continue
            x, y = left + i * step, base - point.value / largest * plot
            segments[-1].append((x, y))
            last = point
            chart.markers.append(Marker(x, y, shape, colour, drill_href(point, to_query),
                                        f"{label}, {series.name} : {number(point.value)}"
                                        + (f" (lien : {point.drill_note})" if point.drill_note else "")))
        for segment in segments:
            if len(segment) > 1:
                chart.lines.append(Polyline(" ".join(f"{x:.1f},{y:.1f}" for x, y in segment), colour,
                                            DASHES[index % len(DASHES)]))
        if last is not None:
            ends.append([next(s for s in reversed(segments) if s)[-1][1], f"{series.name} : {number(last.value)}"])
    if chart.narrow:  # the last values under the months, a line each
        for index, (_, text) in enumerate(ends):
            chart.text(0, base + 56 + 20 * index, text, bold=True)
        chart.height = base + 44 + 20 * len(ends)
        return chart
    # Direct labels at the lines' ends, pushed apart so that they never overlap.
    ends.sort()
    for i in range(1, len(ends)):
        ends[i][0] = max(ends[i][0], ends[i - 1][0] + 16)
    for y, text in ends:
        chart.text(right + 10, y + 4, text, size=12, bold=True)
    chart.height = max(base + 40, (ends[-1][0] + 12) if ends else 0)
    return chart


def table_rows(figure: Figure, to_query) -> tuple[list[str], list[tuple[str, list[tuple[str, str]]]]]:
    """The accessible table of a figure: its columns (the series) and a row per category, each cell the value
    written in French and the list behind it ("" without one)."""
    labels = categories(figure)
    rows = []
    for label in labels:
        cells = []
        for series in figure.series:
            point = point_of(series, label)
            cells.append((shown(point), drill_href(point, to_query)) if point else ("", ""))
        rows.append((label, cells))
    return [s.name for s in figure.series], rows


def csv_rows(figure: Figure) -> list[list[str]]:
    """The figure as a spreadsheet: a header (category, then each series), a row per category; numbers as a
    French spreadsheet reads them (decimal comma)."""
    header = ["Catégorie", *(s.name for s in figure.series)]
    rows = [header]
    for label in categories(figure):
        row = [label]
        for series in figure.series:
            point = point_of(series, label)
            row.append("" if point is None or point.missing else number(point.value).replace("\u202f", ""))
        rows.append(row)
    return rows
