"""Verdict of a `logs:` check: no file found, unreadable files, a count of matching lines out of bounds, and
json logs that are not JSON. The evidence is the first matching lines and what was scanned."""

from __future__ import annotations

from opsverify.kinds.logs.facts import LogsFacts
from opsverify.kinds.logs.model import LogsCheck
from opsverify.problem import Judgement, Problem
from opsverify.units import plural

NO_FILE_FIX = "fix `path` (globs like app.log* include rotated files)"


def judge(entry: LogsCheck, facts: LogsFacts, rule: str | None = None) -> Judgement:
    """Problems of `facts` against `entry`; a logs entry has no rules, so `rule` is ignored."""
    if facts.error:  # no file to look at: the problem says so, and there is no evidence to show
        return Judgement([Problem("path", facts.error, fix=NO_FILE_FIX)])
    problems = [
        Problem("log file", f"could not read {name}: {reason}") for name, reason in facts.unreadable.items()
    ]
    counted = (
        f"{entry.what(facts.count)} {entry.window(facts.window_start)} in {plural(len(facts.files), 'file')}"
    )
    if entry.max is not None and facts.count > entry.max:
        problems.append(Problem("matching lines", counted, expected=f"at most {entry.max}"))
    if entry.min is not None and facts.count < entry.min:
        problems.append(Problem("matching lines", counted, expected=f"at least {entry.min}"))
    if entry.format == "json" and facts.json_checked and facts.not_json == facts.json_checked:
        parsed = (
            "the 1 line parsed is not"
            if facts.json_checked == 1
            else f"none of the {facts.json_checked} lines parsed is"
        )
        problems.append(Problem("format", f"{parsed} a JSON object", fix="are these logs `format: text`?"))
    return Judgement(problems, facts.evidence())
