"""Target files: name resolution, interpolation, env_file, *_file secrets, messages, entries and tiers."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsverify.config.target import list_targets, load_target, resolve_target_path, target_model
from opsverify.config.yamlsource import TargetError
from opsverify.kinds import KINDS
from opsverify.redaction import SECRETS, redact

MINIMAL = "target: shop\nhttp:\n  api: {url: 'http://127.0.0.1:9/healthz'}\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str, environ: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return load_target(str(write(tmp_path, "target.yaml", text)), tmp_path, environ or {})


def error_of(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(TargetError) as raised:
        load_text(tmp_path, text, environ)
    return str(raised.value)


# --- finding the file ------------------------------------------------------------------------------------


def test_a_name_resolves_in_the_targets_folder(tmp_path: Path) -> None:
    write(tmp_path / "targets", "prod.yaml", MINIMAL)
    write(tmp_path / "targets", "staging.yml", MINIMAL)
    assert resolve_target_path("prod", tmp_path / "targets") == tmp_path / "targets" / "prod.yaml"
    assert resolve_target_path("staging", tmp_path / "targets") == tmp_path / "targets" / "staging.yml"
    assert list_targets(tmp_path / "targets") == ["prod", "staging"]


def test_a_path_is_taken_as_given(tmp_path: Path) -> None:
    path = write(tmp_path, "elsewhere/shop.yaml", MINIMAL)
    assert load_target(str(path), tmp_path / "targets", {}).name == "shop"


def test_an_unknown_name_lists_the_targets(tmp_path: Path) -> None:
    write(tmp_path / "targets", "prod.yaml", MINIMAL)
    with pytest.raises(TargetError, match=r"target 'prd' not found: no .*prd\.yaml \(targets in .*: prod\)"):
        resolve_target_path("prd", tmp_path / "targets")
    with pytest.raises(TargetError, match=r"missing\.yaml: target file not found"):
        resolve_target_path(str(tmp_path / "missing.yaml"), tmp_path / "targets")


# --- ${VAR}, ${VAR:-default}, $$ ---------------------------------------------------------------------------


def test_variables_defaults_and_dollar_escapes(tmp_path: Path) -> None:
    target = load_text(
        tmp_path,
        "target: shop\n"
        "http:\n"
        "  api:\n"
        "    url: ${API_URL}/healthz?cost=$$5\n"
        "    headers: {X-Region: '${REGION:-eu-1}', X-Empty: '${EMPTY:-fallback}', X-Blank: '${BLANK:-}'}\n"
        "    expect: {conditions: ['$.a == $.b']}\n",
        {"API_URL": "http://127.0.0.1:9", "EMPTY": ""},
    )
    entry = target.model.http["api"]  # type: ignore[attr-defined]
    assert entry.url == "http://127.0.0.1:9/healthz?cost=$5"
    assert entry.headers == {"X-Region": "eu-1", "X-Empty": "fallback", "X-Blank": ""}
    assert entry.expect.conditions == ["$.a == $.b"]  # a `$` not followed by `{` or `$` is left alone


def test_env_file_values_and_the_process_environment_wins(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".env.prod",
        "# comment\nexport API_URL=http://127.0.0.1:9\nREGION='eu 2'\nTOKEN=\"abc def\"  \nNOTE=x # trailing\n",
    )
    target = load_text(
        tmp_path,
        "target: shop\nenv_file: .env.prod\nhttp:\n  api:\n    url: ${API_URL}/x\n"
        "    headers: {R: '${REGION}', T: '${TOKEN}', N: '${NOTE}'}\n",
        {"REGION": "us-1"},
    )
    entry = target.model.http["api"]  # type: ignore[attr-defined]
    assert entry.url == "http://127.0.0.1:9/x"
    assert entry.headers == {"R": "us-1", "T": "abc def", "N": "x"}


def test_secret_file_variants(tmp_path: Path) -> None:
    write(tmp_path, "secrets/token", "s3cr3t-token-value\n")
    target = load_text(
        tmp_path,
        "target: shop\nhttp:\n  api:\n    url: http://127.0.0.1:9/x\n    auth: {bearer_file: secrets/token}\n",
    )
    assert target.model.http["api"].auth.bearer == "s3cr3t-token-value"  # type: ignore[attr-defined]
    assert "s3cr3t-token-value" in SECRETS
    assert redact("Bearer s3cr3t-token-value") == "Bearer ***"


def test_environment_values_are_secrets_unless_public(tmp_path: Path) -> None:
    load_text(
        tmp_path,
        "target: shop\npublic_env: [API_HOST]\nhttp:\n  api:\n    url: http://${API_HOST}/x\n"
        "    headers: {X-Key: '${API_KEY_VALUE}'}\n",
        {"API_HOST": "public-host.example", "API_KEY_VALUE": "key-canary-4711"},
    )
    assert "key-canary-4711" in SECRETS
    assert "public-host.example" not in SECRETS


def test_secret_named_keys_are_secrets_even_when_literal(tmp_path: Path) -> None:
    load_text(
        tmp_path,
        "target: shop\nhttp:\n  api:\n    url: http://127.0.0.1:9/x\n"
        "    auth: {basic: {username: ops, password: literal-canary-0815}}\n",
    )
    assert "literal-canary-0815" in SECRETS


# --- messages ----------------------------------------------------------------------------------------------


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        "target: shop\nhttp:\n  api:\n    url: http://127.0.0.1:9/x\n    samples: lots\n    retrys: 2\n",
    )
    assert message.startswith(f"{tmp_path / 'target.yaml'}: 2 problems in the target file:")
    assert "target.yaml:5: http.api.samples: expected an integer, got 'lots'" in message
    assert (
        "target.yaml:6: http.api.retrys: unknown key 'retrys'; remove it or fix its spelling (did you mean 'retries'?)"
        in message
    )


def test_a_wrong_value_from_a_secret_variable_is_masked_and_from_another_shown(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        "target: shop\nhttp:\n  api:\n    url: http://127.0.0.1:9/x\n    samples: ${SAMPLES_TOKEN}\n",
        {"SAMPLES_TOKEN": "not-a-number-canary"},
    )
    assert "http.api.samples: expected an integer, got '***'" in message
    assert "canary" not in message
    message = error_of(
        tmp_path,
        "target: shop\nhttp:\n  api:\n    url: http://127.0.0.1:9/x\n    samples: ${SAMPLES}\n",
        {"SAMPLES": "not-a-number-7"},
    )
    assert "http.api.samples: expected an integer, got 'not-a-number-7'" in message


def test_an_empty_value_is_named_as_such(tmp_path: Path) -> None:
    message = error_of(tmp_path, "target: shop\nhttp:\n")
    assert "target.yaml:2: http: expected a mapping of `key: value` lines, got an empty value" in message


# --- entries, tiers, ids -----------------------------------------------------------------------------------


def test_entries_get_their_kind_default_tiers_unless_given(tmp_path: Path) -> None:
    target = load_text(
        tmp_path,
        "target: shop\nhttp:\n"
        "  api: {url: 'http://127.0.0.1:9/a'}\n"
        "  weekly-report: {url: 'http://127.0.0.1:9/b', tiers: [weekly], severity: minor}\n"
        "  retired: {url: 'http://127.0.0.1:9/c', enabled: false}\n",
    )
    checks = {check.id: check for check in target.checks(KINDS["http"])}
    assert list(checks) == ["http:api", "http:weekly-report"]
    assert checks["http:api"].tiers == KINDS["http"].default_tiers
    assert checks["http:weekly-report"].tiers == ("weekly",)
    assert checks["http:weekly-report"].severity == "minor"
    assert checks["http:api"].key == "shop/http:api"


def test_no_kind_defines_a_key_ending_in_file() -> None:
    """`KEY_file` always means "read KEY from this file", so no entry model may have a `*_file` key."""

    def fields(model: type, seen: set[type]) -> list[str]:
        if model in seen or not hasattr(model, "model_fields"):
            return []
        seen.add(model)
        names = []
        for name, info in model.model_fields.items():  # type: ignore[attr-defined]
            names.append(info.alias or name)
            for argument in (info.annotation, *getattr(info.annotation, "__args__", ())):
                for inner in (argument, *getattr(argument, "__args__", ())):
                    if isinstance(inner, type):
                        names += fields(inner, seen)
        return names

    keys = fields(target_model(), set())
    assert [key for key in keys if key.endswith("_file") and key != "env_file"] == []


def test_the_env_file_path_may_use_the_process_environment(tmp_path: Path) -> None:
    write(tmp_path, "conf/prod.env", "API_URL=http://127.0.0.1:9\n")
    target = load_text(
        tmp_path,
        "target: shop\nenv_file: ${CONF_DIR}/prod.env\nhttp:\n  api: {url: '${API_URL}/x'}\n",
        {"CONF_DIR": str(tmp_path / "conf")},
    )
    assert target.model.http["api"].url == "http://127.0.0.1:9/x"  # type: ignore[attr-defined]
    assert str(tmp_path / "conf") not in SECRETS  # a path to a file of secrets is not itself one
