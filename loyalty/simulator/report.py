"""A simulation's results as a table, CSV rows and a server-rendered SVG chart."""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ..models import SimulationRun

#: Line colours of the chart's categories (highest rank first), repeated past the last.
COLOURS = ("#b8860b", "#708090", "#2e8b57", "#4169e1", "#c71585", "#8b4513", "#20b2aa")


def categories(run: SimulationRun) -> list[tuple[str, str]]:
    """(key in the results, name) of the snapshot's categories, highest rank first, then
    "no category" when some week has customers without one."""
    cats = [(str(c["id"]), c["name"]) for c in run.ladder.get("categories", [])]
    if any(week["customers"].get("None") for week in run.results):
        cats.append(("None", _("no category")))
    return cats


def message_keys(run: SimulationRun) -> list[str]:
    return sorted({key for week in run.results for key in week["messages"]})


def header(run: SimulationRun) -> list[str]:
    return [
        _("week"), _("week ends"), *[name for _key, name in categories(run)],
        _("moved up"), _("moved down"), _("counted orders"), _("discount cost"),
        _("points earned"), *[_("messages %(event_channel)s") % {"event_channel": k}
                              for k in message_keys(run)],
    ]


def rows(run: SimulationRun) -> list[list]:
    cats, keys = categories(run), message_keys(run)
    return [
        [week["week"], week["end"], *[week["customers"].get(key, 0) for key, _n in cats],
         week["moved_up"], week["moved_down"], week["orders"], week["discount"],
         week["points"], *[week["messages"].get(k, 0) for k in keys]]
        for week in run.results
    ]


def totals(run: SimulationRun) -> dict:
    weeks = run.results
    return {
        "moved_up": sum(w["moved_up"] for w in weeks),
        "moved_down": sum(w["moved_down"] for w in weeks),
        "orders": sum(w["orders"] for w in weeks),
        "discount": sum((Decimal(w["discount"]) for w in weeks), Decimal("0.00")),
        "points": sum(w["points"] for w in weeks),
        "messages": sum(sum(w["messages"].values()) for w in weeks),
    }


WIDTH, HEIGHT, PAD = 720, 240, 40


def chart(run: SimulationRun) -> str:
    """Customers per category (lines) and the discount cost (bars) per week, as an inline
    SVG: nothing is loaded from elsewhere."""
    weeks = run.results
    if not weeks:
        return ""
    cats = categories(run)
    n = len(weeks)
    step = (WIDTH - 2 * PAD) / max(n - 1, 1)
    top = max([max((w["customers"].get(k, 0) for k, _n in cats), default=0) for w in weeks]
              + [1])
    cost_top = max([Decimal(w["discount"]) for w in weeks] + [Decimal(1)])
    plot = HEIGHT - 2 * PAD

    def x(i):
        return round(PAD + i * step, 1)

    bar = max(step * 0.6, 1)
    bars = format_html_join("", '<rect class="cost" x="{}" y="{}" width="{}" height="{}" '
                            'fill="#f4cccc"><title>{} {}</title></rect>', (
        (round(x(i) - bar / 2, 1), round(HEIGHT - PAD - plot * float(Decimal(w["discount"])
                                                                     / cost_top), 1),
         round(bar, 1), round(plot * float(Decimal(w["discount"]) / cost_top), 1),
         w["end"], w["discount"])
        for i, w in enumerate(weeks)))
    lines = format_html_join("", '<polyline fill="none" stroke="{}" stroke-width="2" '
                             'points="{}"><title>{}</title></polyline>', (
        (COLOURS[j % len(COLOURS)], " ".join(
            f"{x(i)},{round(HEIGHT - PAD - plot * w['customers'].get(key, 0) / top, 1)}"
            for i, w in enumerate(weeks)), name)
        for j, (key, name) in enumerate(cats)))
    legend = format_html_join("", '<text x="{}" y="{}" fill="{}" font-size="12">{}</text>', (
        (PAD + 120 * j, 16, COLOURS[j % len(COLOURS)], name) for j, (_k, name) in enumerate(cats)))
    axis = format_html(
        '<text x="{}" y="{}" font-size="11">{}</text><text x="{}" y="{}" font-size="11" '
        'text-anchor="end">{}</text><text x="{}" y="{}" font-size="11">{}: {}</text>'
        '<text x="{}" y="{}" font-size="11">{}: {}</text>',
        PAD, HEIGHT - 8, weeks[0]["end"], WIDTH - PAD, HEIGHT - 8, weeks[-1]["end"],
        PAD, 32, _("customers, up to"), top, PAD + 260, 32, _("discount cost per week, up to"),
        cost_top,
    )
    return format_html(
        '<svg class="simulation-chart" xmlns="http://www.w3.org/2000/svg" width="{}" '
        'height="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}{}{}</svg>',
        WIDTH, HEIGHT, WIDTH, HEIGHT, _("Customers per category and discount cost per week"),
        bars, lines, legend, axis,
    ) or mark_safe("")
