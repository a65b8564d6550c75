"""The target file: find it, load it, interpolate it, validate it, and list its checks."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError, create_model, field_validator

from opsverify.config.interpolate import (
    Environment,
    interpolate_string,
    process_environment,
    read_env_file,
    resolve,
)
from opsverify.config.kinds import KINDS, Kind, sections
from opsverify.config.state import StateConfig
from opsverify.config.target_files import DEFAULT_TARGETS_DIR as DEFAULT_TARGETS_DIR
from opsverify.config.target_files import list_targets as list_targets
from opsverify.config.target_files import resolve_target_path as resolve_target_path
from opsverify.config.types import CheckEntry, StrictModel, Tier, empty_dict, empty_list
from opsverify.config.yamlsource import KeyPath, SourceMap, TargetError, format_path, load_yaml
from opsverify.plugins import PluginError
from opsverify.redaction import redact

if TYPE_CHECKING:
    from opsverify.config.notify import NotifyConfig


class Settings(StrictModel):
    """Run-wide settings of a target."""

    concurrency: int = Field(
        default=128, ge=1, le=512, description="live probes holding a thread at once (per process)"
    )
    http_concurrency: int = Field(
        default=1000,
        ge=1,
        le=10000,
        description="http requests in flight at once (per process, one event loop)",
    )


class TargetBase(StrictModel):
    """The keys every target file has besides its check sections."""

    target: str = Field(description="the target's name, shown in test ids, reports and messages")
    env_file: str | None = Field(default=None, description="KEY=value file, relative to the target file")
    public_env: list[str] = Field(
        default_factory=empty_list, description="variables shown even though their names say secret"
    )
    secret_env: list[str] = Field(
        default_factory=empty_list, description="variables masked although their names do not say secret"
    )
    settings: Settings = Field(default_factory=Settings)
    if TYPE_CHECKING:  # a field of the model target_model() builds (typed there only when the file has it)
        notify: NotifyConfig | None
    state: StateConfig | None = None

    @field_validator("target")
    @classmethod
    def _name_is_simple(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}", value):
            raise ValueError(
                "a target name is up to 80 letters, digits, '.', '_' or '-', starting with a letter or digit "
                f"(it becomes part of test ids and file names), got {value!r}"
            )
        return value


def target_model(present: frozenset[str] | None = None) -> type[TargetBase]:
    """The target-file model: TargetBase, `notify`, and one optional section per registered kind.

    With `present` (the top-level keys of one file), only the sections and the notify model that file uses
    are built, so a run imports the models of the kinds its target uses and no others (start-up time).
    """
    if present is None:
        KINDS.load_plugins()
        return _target_model(None)
    if not present <= frozenset(top_level_keys()):
        KINDS.load_plugins()  # a section no built-in kind reads: an installed plugin's, or a typo
    return _target_model(frozenset(present) & frozenset([*sections(), "notify"]))


@cache
def _target_model(present: frozenset[str] | None) -> type[TargetBase]:
    fields: dict[str, Any] = {}
    for section, kinds in sections().items():
        primary = kinds[0]
        if present is not None and section not in present:
            # Absent: the same empty value as the full model (checks of your own read `target.model.postgres`)
            # without importing or building the kind's model.
            fields[section] = (
                (None, None) if primary.section_model else (dict[str, Any], Field(default_factory=empty_dict))
            )
            continue
        if primary.section_model:
            module, _, name = primary.section_model.partition(":")
            section_type: Any = getattr(__import__(module, fromlist=[name]), name)
            fields[section] = (section_type | None, None)
        else:
            entries_type = dict.__class_getitem__((str, primary.load_entry_model()))
            fields[section] = (entries_type, Field(default_factory=empty_dict))
    if present is None or "notify" in present:
        from opsverify.config.notify import NotifyConfig

        fields["notify"] = (NotifyConfig | None, None)
    else:
        fields["notify"] = (None, None)
    return create_model("Target", __base__=TargetBase, **fields)


def top_level_keys() -> list[str]:
    """Every key a target file may have at its top level (without building any section's model)."""
    return [*(f.alias or n for n, f in TargetBase.model_fields.items()), "notify", *sections()]


@dataclass(frozen=True)
class CheckItem:
    """One check of one target: becomes one parametrized test with id `kind:name`."""

    target: LoadedTarget = field(repr=False, compare=False)
    kind: Kind
    name: str
    entry: Any
    tiers: tuple[Tier, ...]
    rule: str | None = None  # one rule of the entry (`prometheus:main/cpu-pct`); None: the entry itself

    @property
    def id(self) -> str:
        base = f"{self.kind.name}:{self.name}"
        return f"{base}/{self.rule}" if self.rule is not None else base

    @property
    def probe_key(self) -> str:
        """The rules of one entry share one probe run: `prod/prometheus:main`."""
        return f"{self.target.name}/{self.kind.name}:{self.name}"

    @property
    def key(self) -> str:
        return f"{self.target.name}/{self.id}"

    @property
    def severity(self) -> str:
        return str(getattr(self.entry, "severity", "normal"))


@dataclass
class LoadedTarget:
    """A validated target file with the environment it was resolved against."""

    name: str
    path: Path
    model: TargetBase
    source: SourceMap

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def section(self, name: str) -> Any:
        return getattr(self.model, name, None)

    def checks(self, kind: Kind) -> list[CheckItem]:
        section = self.section(kind.section)
        if section is None:
            return []
        entries: list[tuple[str, Any]] = list(
            section.entries() if hasattr(section, "entries") else section.items()
        )
        items = []
        for name, entry in entries:
            if not getattr(entry, "enabled", True) or (kind.applies and not kind.applies(entry)):
                continue
            tiers = kind.entry_tiers(entry)
            if kind.entry_is_check(entry):
                items.append(CheckItem(self, kind, name, entry, tiers))
            items += [CheckItem(self, kind, name, entry, tiers, rule) for rule in kind.entry_rules(entry)]
        return items

    def all_checks(self) -> list[CheckItem]:
        return [item for kind in KINDS.values() for item in self.checks(kind)]


def load_target(
    spec: str, targets_dir: Path = DEFAULT_TARGETS_DIR, environ: dict[str, str] | None = None
) -> LoadedTarget:
    """Load and validate a target; every problem raises TargetError with file, line, key and fix."""
    path = resolve_target_path(spec, targets_dir)
    raw, source = load_yaml(path)
    if not isinstance(raw, dict):
        raise TargetError(
            f"{source.where(())}: a target file is a mapping of sections (target: NAME, http: ..., ...), "
            f"got {describe_value(raw)}"
        )
    env_values = dict(environ if environ is not None else process_environment())
    env_file = raw.get("env_file")
    if env_file is not None:
        where = source.where(("env_file",))
        if not isinstance(env_file, str):
            raise TargetError(
                f"{where}: env_file: expected a path to a KEY=value file, got {describe_value(env_file)}"
            )
        # The env_file's own path may use the process environment (`${HOME}/.config/prod.env`).
        location = interpolate_string(env_file, Environment(env_values, frozenset(env_values)), where)
        env_values = {**read_env_file(path.parent / Path(location).expanduser(), where), **env_values}
        raw = {**raw, "env_file": location}
    env = Environment(env_values, _names(raw, "public_env"), secret=_names(raw, "secret_env"))
    data = resolve(raw, (), source, env, path.parent)
    try:
        if isinstance(data, dict) and "notify" in data:
            from opsverify.config.notify import load_channel_plugins, needs_channel_plugins

            if needs_channel_plugins(data["notify"]) and load_channel_plugins():
                _target_model.cache_clear()  # built with the notify model before the plugins' channel types
        model = target_model(frozenset(data) if isinstance(data, dict) else None).model_validate(data)
    except ValidationError as exc:
        raise TargetError(redact(explain_validation(exc, data, source))) from None
    except PluginError as exc:
        raise TargetError(f"{path}: {exc}") from None
    loaded = LoadedTarget(model.target, path, model, source)
    _check_dependencies(loaded)
    return loaded


def _names(raw: dict[str, Any], key: str) -> frozenset[str]:
    """The variable names of `public_env` / `secret_env` (a wrong type is reported by validation)."""
    names = raw.get(key) or []
    return frozenset(n for n in names if isinstance(n, str)) if isinstance(names, list) else frozenset()


def _check_dependencies(target: LoadedTarget) -> None:
    """Every `depends_on` names a check of the same target (`kind:name`, or a rule `kind:name/rule`)."""
    checks = target.all_checks()
    known = {c.id for c in checks} | {f"{c.kind.name}:{c.name}" for c in checks}
    for check in checks:
        for dependency in getattr(check.entry, "depends_on", None) or []:
            if dependency not in known:
                guess = difflib.get_close_matches(dependency, sorted(known), n=1)
                hint = f"did you mean {guess[0]!r}?" if guess else "write kind:name, e.g. postgres:main"
                where = target.source.where((check.kind.section, check.name, "depends_on"))
                raise TargetError(
                    f"{where}: {check.kind.section}.{check.name}.depends_on: no check {dependency!r} in target "
                    f"{target.name} ({hint})"
                )


def explain_validation(exc: ValidationError, data: Any, source: SourceMap) -> str:
    """Turn pydantic errors into `file:line: key.path: what is wrong; the fix` lines (one per key)."""
    lines: list[str] = []
    seen: set[KeyPath] = set()
    for error in exc.errors(include_url=False):
        path = _data_path(tuple(error["loc"]), data, error["type"])
        if path in seen:
            continue
        seen.add(path)
        lines.append(f"{source.where(path)}: {format_path(path)}: {_message(error, path, data)}")
    count = len(lines)
    header = (
        f"{source.file}: {count} problem{'s' if count > 1 else ''} in the target file:\n  "
        if count > 1
        else ""
    )
    return header + "\n  ".join(lines)


def _data_path(loc: tuple[Any, ...], data: Any, error_type: str) -> KeyPath:
    """Keep the parts of a pydantic `loc` that exist in the data (drops union/validator tags)."""
    path: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and part < len(current)
        ):
            path.append(part)
            current = current[part]
        elif last and error_type in ("extra_forbidden", "missing") and isinstance(part, str):
            path.append(part)
    return tuple(path)


def _parent_model(path: KeyPath) -> type[BaseModel] | None:
    """The model that owns the last key of `path`, when it can be determined."""
    if not path:
        return None
    top: Any = target_model(frozenset([path[0]]) if isinstance(path[0], str) else None)
    model = top
    for part in path[:-1]:
        if isinstance(part, int):
            continue
        field_info = getattr(model, "model_fields", {}).get(part)
        if field_info is None:
            if model is top:
                return None
            continue  # a user-chosen entry name inside a section
        annotation = field_info.annotation
        model = _model_in(annotation)
        if model is None:
            return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


_TYPE_EXPECTED = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "string": "a string (quote it if YAML reads it as something else)",
    "list": "a list: [a, b] or one `- item` line each",
    "dict": "a mapping of `key: value` lines",
    "model": "a mapping of `key: value` lines",
    "model_attributes": "a mapping of `key: value` lines",
}
_BOUNDS = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}


def describe_value(value: Any) -> str:
    """A short, readable rendering of a value from the target file for error messages."""
    if value is None:
        return "an empty value"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _message(error: Any, path: KeyPath, data: Any) -> str:
    """The part of a validation message after `file:line: key.path: ` — what is wrong and the fix."""
    kind, given = error["type"], error.get("input")
    context = error.get("ctx") or {}
    key = path[-1] if path else ""
    got = describe_value(given)
    if kind == "extra_forbidden":
        model = _parent_model(path) if len(path) > 1 else None
        known = [f.alias or n for n, f in model.model_fields.items()] if model else []
        if not known and len(path) == 1:
            known = top_level_keys()
        guess = difflib.get_close_matches(str(key), known, n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else f"known keys: {', '.join(sorted(known))}"
        return f"unknown key {key!r}; remove it or fix its spelling ({hint})"
    if kind == "missing":
        return f"required key {key!r} is missing; add `{key}: ...`"
    if kind in ("value_error", "assertion_error"):
        message = str(error["msg"])
        return (
            message.split(", ", 1)[1]
            if message.startswith(("Value error, ", "Assertion failed, "))
            else message
        )
    if kind == "literal_error":
        return f"expected one of {context.get('expected', '?')}, got {got}"
    if kind in _BOUNDS:
        bound = next(iter(context.values()), "?")
        return f"expected a value {_BOUNDS[kind]} {bound}, got {got}"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {context.get('pattern', '?')}, got {got}"
    if kind in ("string_too_long", "too_long"):
        limit = context.get("max_length", "?")
        return (
            f"too long: at most {limit} {'characters' if kind == 'string_too_long' else 'items'}, got {got}"
        )
    for prefix, wanted in _TYPE_EXPECTED.items():
        if kind in (f"{prefix}_type", f"{prefix}_parsing", f"{prefix}_from_float"):
            return f"expected {wanted}, got {got}"
    message = str(error["msg"])
    return f"{message[0].lower()}{message[1:]}, got {got}"


def entry_model_for(kind_name: str) -> type[CheckEntry]:
    return KINDS[kind_name].load_entry_model()
