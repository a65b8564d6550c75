"""The secrets registry masks every form of a registered value, URL passwords and Authorization headers."""

from __future__ import annotations

from opsverify.redaction import MASK, SECRETS, SecretRegistry, is_secret_key, redact_data


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
