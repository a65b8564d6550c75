"""Warnings from a check's history: a drill whose RTO nears its target, or rises run after run.

A warning never fails a check: it is shown in the terminal, summary.json (`warnings`) and Allure.
"""

from __future__ import annotations

from itertools import pairwise

from opsverify.units import human_duration

TREND_MIN_RISE = 0.2  # a rising RTO warns when it rose by at least this share over the runs looked at


def rto_warnings(
    rto: float | None,
    target: float | None,
    warn_pct: float | None,
    earlier: list[float],
    trend_runs: int,
) -> list[str]:
    """Warnings for a drill's RTO `rto` (None: not measured), `earlier` the previous runs' RTOs, newest first.

    - past `warn_pct` percent of the target `rto` (and not over it: that fails the drill);
    - rose on each of the last `trend_runs` runs (this one and the `trend_runs` before it), by at least 20%.
    """
    if rto is None:
        return []
    warnings = []
    if target is not None and warn_pct is not None and warn_pct * target / 100 < rto <= target:
        warnings.append(
            f"RTO {human_duration(rto)} is {100 * rto / target:.3g}% of its {human_duration(target)} target "
            f"(rto_warn_pct: {warn_pct:g}): the restore is getting close to the limit"
        )
    if trend_runs > 0 and len(earlier) >= trend_runs:
        series = [*reversed(earlier[:trend_runs]), rto]  # oldest first, this run last
        rising = all(b > a for a, b in pairwise(series))
        if rising and series[0] > 0 and rto >= series[0] * (1 + TREND_MIN_RISE):
            shown = " -> ".join(human_duration(v) for v in series)
            warnings.append(
                f"RTO rose on each of the last {trend_runs} runs ({shown}, +{100 * (rto / series[0] - 1):.0f}%; "
                f"rto_trend_runs: {trend_runs}): find what grows before it passes its target"
            )
    return warnings
