"""What is secret (the rule), and the registry that masks every form of a secret value."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from opsverify.config.target import load_target
from opsverify.redaction import (
    MASK,
    SECRETS,
    SecretRegistry,
    is_secret_env_name,
    is_secret_header,
    is_secret_key,
    redact,
    redact_data,
)


def test_registered_values_and_their_url_encoded_forms_are_masked() -> None:
    registry = SecretRegistry()
    registry.add("p@ss word/1")
    text = "raw p@ss word/1, quoted p%40ss%20word%2F1, plus p%40ss+word%2F1"
    assert registry.redact(text) == f"raw {MASK}, quoted {MASK}, plus {MASK}"


def test_the_longest_secret_is_masked_whole() -> None:
    registry = SecretRegistry()
    registry.add_all(["abcdef", "abcdefghij"])
    assert registry.redact("x abcdefghij y") == f"x {MASK} y"


def test_short_values_are_not_secrets() -> None:
    registry = SecretRegistry()
    registry.add_all(["1", "on", None, True])
    assert len(registry) == 0
    assert registry.redact("on 1") == "on 1"


def test_url_passwords_and_auth_headers_are_masked_without_registration() -> None:
    registry = SecretRegistry()
    assert registry.redact("postgresql://app:hunter2@db:5432/x") == f"postgresql://app:{MASK}@db:5432/x"
    assert registry.redact("Authorization: Bearer abc.def") == f"Authorization: {MASK}"


def test_secret_key_names() -> None:
    assert all(map(is_secret_key, ["password", "db_password", "token", "webhook_url", "api_key", "DSN"]))
    assert not any(map(is_secret_key, ["url", "username", "tokens_used", "passage"]))


def test_s3_credential_key_names_are_secret() -> None:
    """`s3:` credentials written literally into a target are masked like ${VAR} ones."""
    assert all(map(is_secret_key, ["access_key_id", "secret_access_key", "session_token"]))
    assert not any(map(is_secret_key, ["endpoint_url", "region", "profile", "addressing_style"]))


def test_redact_data_walks_json_like_values() -> None:
    registry_value = "canary-secret-77"
    SECRETS.add(registry_value)
    assert redact_data({"a": [registry_value, 1], registry_value: "x"}) == {"a": [MASK, 1], MASK: "x"}


def test_a_secret_added_after_a_text_was_redacted_masks_it_the_next_time() -> None:
    from opsverify.redaction import SecretRegistry

    registry = SecretRegistry()
    text = "token late-secret-91 in a short text"
    assert registry.redact(text) == text  # remembered as clean
    registry.add("late-secret-91")
    assert registry.redact(text) == "token *** in a short text"
    registry.clear()
    assert registry.redact(text) == text


# --- what is secret: the rule of docs/target-file.md ---------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["DB_PASSWORD", "PGPASSWORD", "MYSQL_PWD", "REDIS_PASS", "SSH_PASSPHRASE", "APP_SECRET", "GITHUBTOKEN",
     "API_KEY", "SSH_KEY", "AWS_SECRET_ACCESS_KEY", "GOOGLE_CREDENTIALS", "BASIC_AUTH", "SENTRY_DSN",
     "SLACK_WEBHOOK_URL", "SESSION_COOKIE", "STRIPE_APIKEY", "private_key", "db_password"],
)  # fmt: skip
def test_variables_whose_name_says_secret(name: str) -> None:
    assert is_secret_env_name(name)


@pytest.mark.parametrize(
    "name",
    ["SITE_URL", "API_HOST", "DATABASE_URL", "PORT", "PWD", "OLDPWD", "KEYCLOAK_URL", "MONKEY_HOST", "AUTHOR",
     "PASSAGE_DIR", "BACKUP_PATH", "HOME"],
)  # fmt: skip
def test_variables_whose_name_does_not_say_secret(name: str) -> None:
    assert not is_secret_env_name(name)


def load(tmp_path: Path, text: str, environ: dict[str, str]) -> None:
    (tmp_path / "target.yaml").write_text(text)
    load_target(str(tmp_path / "target.yaml"), tmp_path, environ)


def test_only_secret_variables_are_registered_and_secret_env_public_env_adjust_the_rule(
    tmp_path: Path,
) -> None:
    tag = secrets.token_hex(4)
    load(
        tmp_path,
        "target: shop\nsecret_env: [UPSTREAM]\npublic_env: [DEPLOY_KEY_ID]\nhttp:\n  api:\n"
        "    url: ${SITE_URL}/health.json\n"
        "    headers: {X-Upstream: '${UPSTREAM}', X-Key-Id: '${DEPLOY_KEY_ID}', X-Db: '${DB_PASSWORD}'}\n",
        {
            "SITE_URL": f"http://site-{tag}.example:8080",
            "UPSTREAM": f"upstream-{tag}",
            "DEPLOY_KEY_ID": f"key-id-{tag}",
            "DB_PASSWORD": f"db-pw-{tag}",
        },
    )
    assert f"upstream-{tag}" in SECRETS  # secret_env: masked although its name does not say so
    assert f"db-pw-{tag}" in SECRETS  # its name says so
    assert f"key-id-{tag}" not in SECRETS  # public_env: shown although its name says KEY
    assert redact(
        f"connection refused by site-{tag}.example:8080 (GET http://site-{tag}.example:8080/health.json)"
    ) == (f"connection refused by site-{tag}.example:8080 (GET http://site-{tag}.example:8080/health.json)")


def test_passwords_and_tokens_in_urls_are_registered_but_hosts_and_users_stay_readable(
    tmp_path: Path,
) -> None:
    tag = secrets.token_hex(4)
    load(
        tmp_path,
        "target: shop\nhttp:\n  api: {url: '${API_URL}/x'}\n  git: {url: 'https://tok-"
        + tag
        + "@git.example/x'}\n",
        {"API_URL": f"https://ops:pw-{tag}%21@api.example:8443"},
    )
    assert f"pw-{tag}%21" in SECRETS
    assert f"pw-{tag}!" in SECRETS
    assert f"tok-{tag}" in SECRETS
    assert (
        redact(f"password pw-{tag}! rejected by api.example:8443")
        == "password *** rejected by api.example:8443"
    )
    assert redact("postgresql://app:x@db:5432/main") == "postgresql://app:***@db:5432/main"
    assert redact("https://abc123@git.example/x") == "https://***@git.example/x"
    assert redact("postgresql://app@db:5432/main") == "postgresql://app@db:5432/main"


def test_credential_headers_are_registered_other_headers_and_expectations_are_not(tmp_path: Path) -> None:
    tag = secrets.token_hex(4)
    load(
        tmp_path,
        "target: shop\nhttp:\n  api:\n    url: http://127.0.0.1:9/x\n"
        f"    headers: {{Cookie: 'sid=c-{tag}', X-Session-Id: 's-{tag}', X-Request-Id: 'r-{tag}'}}\n"
        f"    expect: {{headers: {{Set-Cookie: 'e-{tag}'}}}}\n",
        {},
    )
    assert f"sid=c-{tag}" in SECRETS
    assert f"s-{tag}" in SECRETS
    assert f"r-{tag}" not in SECRETS
    assert f"e-{tag}" not in SECRETS
    assert all(map(is_secret_header, ["Authorization", "proxy-authorization", "Cookie", "Set-Cookie",
                                      "X-Api-Key", "X-Auth-Token", "X-CSRF-Token", "X-Session-Id"]))  # fmt: skip
    assert not any(map(is_secret_header, ["Accept", "X-Request-Id", "Host", "User-Agent"]))


def test_cookie_and_credential_headers_are_masked_in_text_and_json() -> None:
    registry = SecretRegistry()
    echoed = '{"Cookie": "sid=abc; theme=dark", "Authorization": "Bearer x.y", "Host": "api:80"}'
    assert registry.redact(echoed) == f'{{"Cookie": "{MASK}", "Authorization": "{MASK}", "Host": "api:80"}}'
    assert registry.redact("Set-Cookie: sid=abc; Path=/\nX-Api-Key: k1\nHost: api") == (
        f"Set-Cookie: {MASK}\nX-Api-Key: {MASK}\nHost: api"
    )
