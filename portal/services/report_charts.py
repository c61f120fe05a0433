"""Bar charts of the reports' monthly trends, drawn on the server as accessible SVG (pure).

Each chart is an image to assistive technology (`role="img"`, named by its <title> and
described by its <desc>, which gives the highest month); the page puts a table of every figure
beside it, so nothing is only in the picture. No script, no style attribute (the portal's
content security policy): colours are SVG presentation attributes, GOV.UK's blue and black.
With suppression on, a month under 5 draws no bar and is labelled "fewer than 5"
(`report_figures.suppress`).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from .report_figures import SUPPRESS_BELOW, Trend, count_words

# Drawn small and scaled up to at most 480 px wide (static/css/portal.css): on a 390 px phone the
# chart is about 360 px wide, so text of 16 units reads at about 14 px, and at 480 px at 19 px.
WIDTH = 400
HEIGHT = 240
TOP, BOTTOM, LEFT, RIGHT = 16, 40, 52, 8
FONT = 16
BAR = "#1d70b8"
INK = "#0b0c0c"
GRID = "#b1b4b6"


def _nice_top(value: int) -> int:
    """A round number at or above `value` for the scale (at least 5)."""
    top = max(value, SUPPRESS_BELOW)
    for step in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top <= step * 5:
            return -(-top // step) * step
    return top


def bar_chart(trend: Trend, chart_id: str, *, suppressing: bool) -> Markup:
    """The SVG of one monthly trend. `chart_id` makes its title and description ids unique."""
    shown = [0 if suppressing and v < SUPPRESS_BELOW else v for v in trend.values]
    top = _nice_top(max(shown, default=0))
    plot_w = WIDTH - LEFT - RIGHT
    slot = plot_w / max(len(trend.values), 1)
    # A month's three letters need about two font sizes: where the bars are narrower (a school
    # year's twelve months), every other label goes on a second line so none run together.
    stagger = slot < FONT * 2.2
    bottom = BOTTOM + (FONT + 2 if stagger else 0)
    plot_h = HEIGHT - TOP - bottom
    bar_w = max(slot * 0.6, 2)
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    if trend.values and max(shown) > 0:
        high = max(range(len(trend.values)), key=lambda i: trend.values[i])
        peak = (f"The most was {count_words(trend.values[high], suppressing)} in "
                f"{trend.months[high]}.")
    elif suppressing:
        peak = f"Every month had {count_words(0, True)}."
    else:
        peak = "There were none."
    span = f"{trend.months[0]} to {trend.months[-1]}" if trend.months else "no months"
    desc = f"Bar chart, one bar a month, {span}. {peak} The table beside it gives every month."
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="portal-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="{title_id} {desc_id}" '
        f'focusable="false">',
        f'<title id="{title_id}">{escape(trend.title)}</title>',
        f'<desc id="{desc_id}">{escape(desc)}</desc>',
    ]
    for tick in range(0, 6):
        value = top * tick // 5
        y = TOP + plot_h - plot_h * tick / 5
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{GRID}" stroke-width="1" aria-hidden="true"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{FONT}" '
                     f'fill="{INK}" aria-hidden="true">{value:,}</text>')
    for i, (month, value) in enumerate(zip(trend.months, shown, strict=True)):
        x = LEFT + slot * i + (slot - bar_w) / 2
        h = plot_h * value / top if top else 0
        if h > 0:
            parts.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
                         f'height="{h:.1f}" fill="{BAR}" aria-hidden="true"/>')
        elif suppressing and trend.values[i] < SUPPRESS_BELOW:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{TOP + plot_h - 4:.1f}" '
                         f'text-anchor="middle" font-size="{FONT}" fill="{INK}" '
                         f'aria-hidden="true">&lt;5</text>')
        short = escape(month.split(" ")[0][:3])
        label_y = HEIGHT - bottom + 22 + (FONT + 2 if stagger and i % 2 else 0)
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{label_y}" '
                     f'text-anchor="middle" font-size="{FONT}" fill="{INK}" '
                     f'aria-hidden="true">{short}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" '
                 f'y2="{TOP + plot_h}" stroke="{INK}" stroke-width="2" aria-hidden="true"/>')
    parts.append("</svg>")
    # Every text in it went through `escape`; the rest is numbers and fixed markup.
    return Markup("".join(parts))  # noqa: S704
