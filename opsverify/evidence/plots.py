"""RTO and RPO over time against their targets, drawn by matplotlib as inline SVG (no network, no JS).

matplotlib is an optional dependency (`pip install 'opsverify[evidence]'`): imported only here.
"""

from __future__ import annotations

import io
from datetime import UTC

from opsverify.evidence.rows import number
from opsverify.state.model import DrillRecord

DAY = 86400.0
INSTALL_HINT = "pip install 'opsverify[evidence]'"
_UNITS = ((3600.0, "hours"), (60.0, "minutes"), (1.0, "seconds"))


class PlottingMissing(Exception):
    """matplotlib is not installed."""


def _unit(values: list[float]) -> tuple[float, str]:
    top = max(values, default=0.0)
    for size, name in _UNITS:
        if top >= 2 * size:
            return size, name
    return 1.0, "seconds"


def plot_svg(title: str, drills: list[DrillRecord], value_key: str, target_key: str, what: str) -> str | None:
    """An SVG of `value_key` per drill over time with the target drawn as a line; None when no drill has it."""
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise PlottingMissing(
            f"the evidence page draws its plots with matplotlib, which is not installed: {INSTALL_HINT} "
            "(or write --format csv / json, which need no plotting library)"
        ) from None
    points = [
        (d.started / DAY, v, d.record.get("verdict") == "passed")
        for d in drills
        if (v := number(d.record.get(value_key))) is not None
    ]
    targets = [(d.started / DAY, t) for d in drills if (t := number(d.record.get(target_key)))]
    if not points:
        return None
    scale, unit = _unit([p[1] for p in points] + [t for _, t in targets])
    # x: matplotlib's date numbers, days since its epoch (set to the Unix epoch here)
    with matplotlib.rc_context(
        {"date.epoch": "1970-01-01T00:00:00", "svg.fonttype": "none", "svg.hashsalt": f"{title}-{value_key}"}
    ):
        # fixed margins: a layout engine (constrained, tight) draws the figure several times (~0.07 s a plot)
        figure = Figure(figsize=(8, 3), dpi=100)
        figure.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.24)
        axes = figure.add_subplot()
        axes.plot(
            [p[0] for p in points], [p[1] / scale for p in points], marker="o", color="#1f77b4", label=what
        )
        failed = [p for p in points if not p[2]]
        if failed:
            axes.plot(
                [p[0] for p in failed],
                [p[1] / scale for p in failed],
                "x",
                color="#d62728",
                ms=9,
                label="failed drill",
            )
        if targets:
            label = f"target ({targets[-1][1] / scale:g} {unit})"
            if len({t for _, t in targets}) == 1:
                axes.axhline(targets[0][1] / scale, linestyle="--", color="#d62728", label=label)
            else:  # the target changed over the period: drawn as it was at each drill
                axes.step(
                    [t[0] for t in targets],
                    [t[1] / scale for t in targets],
                    where="post",
                    linestyle="--",
                    color="#d62728",
                    label=label,
                )
        if len({p[0] for p in points}) == 1:  # one drill: a day either side, not years
            axes.set_xlim(points[0][0] - 1, points[0][0] + 1)  # date numbers count days
        axes.xaxis_date(UTC)
        axes.set_title(title)
        axes.set_ylabel(unit)
        axes.set_ylim(bottom=0)
        axes.grid(True, alpha=0.3)
        axes.legend(loc="upper left", fontsize="small")
        figure.autofmt_xdate(bottom=0.24)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    svg = out.getvalue()
    return svg[svg.index("<svg") :]  # inline: without the XML prolog and doctype
