"""Metrics probe: scrape a /metrics exposition, parse it with prometheus-client, evaluate every rule.

Values are what the process exposes now: counters and histograms are totals since it started (a
Prometheus server is what gives rates over a window; see the `prometheus` kind).
"""

from __future__ import annotations

import difflib
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import requests
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from opsverify.kinds.base import ProbeContext
from opsverify.kinds.metrics.facts import MetricsFacts, Sample
from opsverify.kinds.metrics.model import Selector
from opsverify.kinds.prometheus.facts import RuleResult, Series
from opsverify.kinds.prometheus.probe import ApiError, capped_get, denied, session_for
from opsverify.netmessages import Endpoint, describe
from opsverify.units import format_number, plural

if TYPE_CHECKING:
    from opsverify.kinds.metrics.model import MetricsCheck, MetricsRule

MAX_LABEL_VALUES = 10  # label values listed when a selector's labels match no series
ACCEPT = "text/plain;version=0.0.4;q=1.0, application/openmetrics-text;version=1.0.0;q=0.5, */*;q=0.1"

# The sample names a declared family (`# TYPE name type` / `# HELP`) can have, by type. prometheus-client
# names a counter family without its `_total`.
FAMILY_SUFFIXES = {
    "counter": ("", "_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gaugehistogram": ("_gbucket", "_gcount", "_gsum"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("", "_info"),
}


def probe(entry: MetricsCheck, ctx: ProbeContext) -> MetricsFacts:
    """Scrape `entry.url` once and evaluate every rule against that one scrape."""
    facts = MetricsFacts(url=entry.url)
    verify: bool | str = entry.verify if isinstance(entry.verify, bool) else str(ctx.path(entry.verify))
    started = time.perf_counter()
    try:
        with session_for(entry.auth, entry.headers) as session:
            response, body = capped_get(
                session,
                entry.url,
                headers={"Accept": ACCEPT},
                timeout=entry.timeout,
                verify=verify,
                limit=entry.max_body_bytes,
            )
    except requests.exceptions.RequestException as exc:
        facts.error = describe(exc, Endpoint.from_url(entry.url, entry.timeout))
        return facts
    except ApiError as exc:
        facts.error = str(exc)
        return facts
    facts.elapsed_ms = (time.perf_counter() - started) * 1000
    facts.status, facts.body_bytes = response.status_code, len(body)
    if reason := denied(response, entry.url):
        facts.error = reason
        return facts
    if response.status_code != 200:
        facts.error = (
            f"GET {entry.url} -> HTTP {response.status_code}, expected 200 with a metrics exposition"
        )
        return facts
    content_type = response.headers.get("content-type", "")
    try:
        facts.samples, facts.declared = read_exposition(body.decode("utf-8", errors="replace"), content_type)
    except ValueError as exc:
        facts.error = (
            f"{entry.url} did not return a Prometheus exposition ({content_type or 'no content type'}): "
            f"{str(exc)[:200]}; is this the /metrics endpoint?"
        )
        return facts
    for name, rule in entry.rules.items():
        facts.results[name] = evaluate(rule, facts.samples, facts.declared)
    return facts


def parse_exposition(text: str, content_type: str = "") -> list[Sample]:
    """Every sample of a text (0.0.4) or OpenMetrics exposition, parsed by prometheus-client."""
    return read_exposition(text, content_type)[0]


def read_exposition(text: str, content_type: str = "") -> tuple[list[Sample], dict[str, str]]:
    """The samples of an exposition, and the sample names its declared families (TYPE/HELP) allow.

    A family can be declared without samples: a labelled counter before its first increment, or one
    whose process has counted nothing yet. The second value tells that apart from a misspelt name.
    """
    parse = openmetrics_families if "openmetrics" in content_type else text_string_to_metric_families
    samples: list[Sample] = []
    declared: dict[str, str] = {}
    for family in parse(text):
        for suffix in FAMILY_SUFFIXES.get(family.type, ("",)):
            declared.setdefault(family.name + suffix, family.type)
        for sample in family.samples:
            samples.append(Sample(sample.name, dict(sample.labels), float(sample.value)))
    if not samples and text.lstrip().startswith("<"):
        raise ValueError("the body is HTML, not metrics")
    return samples, declared


def evaluate(
    rule: MetricsRule, samples: list[Sample], declared: Mapping[str, str] | None = None
) -> RuleResult:
    """The series a rule yields from one scrape (or why it yields none).

    `declared` (sample name -> family type, from `read_exposition`) lets a missing series of a declared
    family be reported as "no samples yet" rather than as an unknown name.
    """
    declared = declared or {}
    selectors = rule.selectors()
    if rule.ratio is not None:
        return _ratio(selectors[0], selectors[1], samples, declared)
    if rule.quantile is not None:
        return _quantile(rule.quantile, selectors[0], samples, declared)
    selector = selectors[0]
    matched = [s for s in samples if selector.matches(s.name, s.labels)]
    result = RuleResult(expr=str(selector))
    if not matched:
        result.note = _not_found(selector, samples, declared)
    elif rule.sum:
        result.expr = f"sum({selector})"
        result.series = [Series({}, math.fsum(s.value for s in matched))]
        result.note = f"{plural(len(matched), 'series')} added up"
    else:
        result.series = [Series({"__name__": s.name, **s.labels}, s.value) for s in matched]
    return result


def _ratio(
    numerator: Selector, denominator: Selector, samples: list[Sample], declared: Mapping[str, str]
) -> RuleResult:
    result = RuleResult(expr=f"sum({numerator}) / sum({denominator})")
    parts = []
    for selector in (numerator, denominator):
        values = [s.value for s in samples if selector.matches(s.name, s.labels)]
        # A labelled counter appears once first incremented: no 5xx series yet means no 5xx yet.
        exposed = selector.name in declared or any(s.name == selector.name for s in samples)
        if not values and not (selector is numerator and exposed):
            result.note = _not_found(selector, samples, declared)
            return result
        parts.append(math.fsum(values))
    top, bottom = parts
    if bottom == 0:
        value = 0.0 if top == 0 else math.inf
        result.note = f"{format_number(top)} / 0: no {denominator.name} counted yet"
    else:
        value = top / bottom
        result.note = f"{format_number(top)} / {format_number(bottom)}"
    result.series = [Series({}, value)]
    return result


def _quantile(
    quantile: float, histogram: Selector, samples: list[Sample], declared: Mapping[str, str]
) -> RuleResult:
    """histogram_quantile(q, sum by (le) (<name>_bucket{...})) over the totals of one scrape."""
    bucket_name = histogram.name if histogram.name.endswith("_bucket") else f"{histogram.name}_bucket"
    selector = Selector(bucket_name, histogram.matchers)
    result = RuleResult(expr=f"histogram_quantile({quantile:g}, {selector})")
    counts: dict[float, float] = {}
    for sample in samples:
        if selector.matches(sample.name, sample.labels) and "le" in sample.labels:
            upper = float(sample.labels["le"])
            counts[upper] = counts.get(upper, 0.0) + sample.value
    if not counts:
        result.note = _not_found(selector, samples, declared)
        return result
    buckets = sorted(counts.items())
    if not math.isinf(buckets[-1][0]):
        result.error = f'{selector} has no le="+Inf" bucket; it is not a valid histogram'
        return result
    total = buckets[-1][1]
    if total == 0:
        result.note = "no observations yet"
        return result
    result.series = [Series({}, bucket_quantile(quantile, buckets))]
    observed = f"{plural(total, 'observation')} in {plural(len(buckets), 'bucket')}"
    result.note = f"{observed}, since the process started"
    return result


def bucket_quantile(quantile: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile: linear interpolation inside the bucket holding the rank.

    `buckets` are (upper bound, cumulative count), sorted, ending with +Inf. A rank in the +Inf bucket
    returns the highest finite upper bound, as Prometheus does.
    """
    if len(buckets) < 2:
        return math.nan
    bounds = [upper for upper, _ in buckets]
    counts = [count for _, count in buckets]
    for index in range(1, len(counts)):  # counts must not decrease (scrape races)
        counts[index] = max(counts[index], counts[index - 1])
    rank = quantile * counts[-1]
    index = next(i for i, count in enumerate(counts) if count >= rank)
    if index == len(buckets) - 1:
        return bounds[-2]
    if index == 0 and bounds[0] <= 0:
        return bounds[0]
    start, end, count = 0.0, bounds[index], counts[index]
    if index > 0:
        start = bounds[index - 1]
        count -= counts[index - 1]
        rank -= counts[index - 1]
    return start + (end - start) * (rank / count) if count else start


def _not_found(selector: Selector, samples: list[Sample], declared: Mapping[str, str]) -> str:
    """Why `selector` matched nothing: labels that fit no series, a declared family with no samples
    yet, or a name the exposition does not have (with the closest name it does have)."""
    present = [s for s in samples if s.name == selector.name]
    if present:
        return (
            f"{selector.name} has no series matching {_matchers(selector)}{_label_values(selector, present)}"
        )
    if selector.name in declared:
        family = "untyped" if declared[selector.name] == "unknown" else declared[selector.name]
        return (
            f"{selector.name} has no samples yet: the exposition declares it ({family} family) "
            "but the process has recorded nothing into it since it started"
        )
    names = sorted({s.name for s in samples})
    guess = difflib.get_close_matches(selector.name, names, n=1)
    return f"{selector.name} not in the exposition" + (f"; did you mean {guess[0]}?" if guess else "")


def _matchers(selector: Selector) -> str:
    return str(selector)[len(selector.name) :] or "{}"


def _label_values(selector: Selector, present: list[Sample]) -> str:
    """The values the labels of the selector's matchers take in the exposition, e.g. `status: "200", "404"`."""
    parts = []
    for label in dict.fromkeys(m.label for m in selector.matchers):
        values = sorted({s.labels[label] for s in present if label in s.labels})
        if values:
            shown = ", ".join(f'"{v}"' for v in values[:MAX_LABEL_VALUES])
            more = f" … and {len(values) - MAX_LABEL_VALUES} more" if len(values) > MAX_LABEL_VALUES else ""
            parts.append(f"{label}: {shown}{more}")
        else:
            labels = sorted({name for s in present for name in s.labels})
            parts.append(f"no series has a label {label} (labels: {', '.join(labels) or 'none'})")
    return "; label values present: " + "; ".join(parts) if parts else ""
