"""The `notify:` section of a target file (opsverify/config/notify.py): strict keys, clear errors, secrets."""

from __future__ import annotations

import pytest

from opsverify.config.target import load_target
from opsverify.config.yamlsource import TargetError
from opsverify.redaction import SECRETS, redact

HEAD = "target: prod\nhttp:\n  api: {url: 'http://127.0.0.1:1/healthz'}\n"


def load(tmp_path, notify: str, environ: dict[str, str] | None = None):
    path = tmp_path / "prod.yaml"
    path.write_text(HEAD + "notify:\n" + notify)
    return load_target(str(path), tmp_path, environ=environ or {})


def error(tmp_path, notify: str) -> str:
    with pytest.raises(TargetError) as caught:
        load(tmp_path, notify)
    return str(caught.value)


def test_full_section_loads(tmp_path) -> None:
    target = load(
        tmp_path,
        """\
  channels:
    ops-slack: {slack: {webhook_url: "${SLACK_URL}"}}
    admin-mail: {email: {host: smtp.example.com, port: 587, starttls: true, username: u, password: "${PW}",
                 from: noreply@example.com, to: [ops@example.com]}}
    hook: {webhook: {url: https://example.com/hook, hmac_key: "0123456789abcdef"}}
    teams: {apprise: {url: "msteams://a/b/c/d"}}
  routes:
    - {match: {tiers: [smoke], status: failed}, to: [ops-slack, admin-mail]}
    - {match: {tiers: [daily], status: completed}, to: admin-mail}
    - {name: critical, match: {severity: [critical], kinds: [http], checks: ["api*"]}, to: [hook, teams]}
  policy: {failure_threshold: 2, send_on_resolved: true, remind_every: 6h}
  heartbeat: {url: "https://hc-ping.com/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"}
  state: state/
  report_url: https://ci.example.com/report
""",
        {"SLACK_URL": "https://hooks.slack.com/services/T0/B0/slacktoken123", "PW": "mail-password"},
    )
    notify = target.model.notify
    assert notify is not None
    assert {n: c.type_name for n, c in notify.channels.items()} == {
        "ops-slack": "slack",
        "admin-mail": "email",
        "hook": "webhook",
        "teams": "apprise",
    }
    assert notify.routes[1].to == ["admin-mail"]
    assert notify.routes[1].match.status == ["completed"]
    assert notify.routes[2].label(2) == "critical"
    assert notify.routes[0].label(0) == "routes[0]"
    assert notify.policy.remind_every == 6 * 3600
    assert notify.policy.failure_threshold == 2
    # every secret field is masked, also those written literally into the file
    secrets = [
        "https://hooks.slack.com/services/T0/B0/slacktoken123",
        "mail-password",
        "0123456789abcdef",
        "https://hc-ping.com/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab",
        "msteams://a/b/c/d",
    ]
    for secret in secrets:
        assert secret in SECRETS
        assert redact(f"x {secret} y") == "x *** y"
    assert "/services/T0/B0/slacktoken123" not in redact("POST /services/T0/B0/slacktoken123 failed")
    assert "0f1e2d3c-aaaa-bbbb-cccc-1234567890ab" not in redact("/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab/fail")


@pytest.mark.parametrize(
    ("notify", "expected"),
    [
        (
            "  channels:\n    s: {slak: {webhook_url: 'https://x.example/y'}}\n",
            ":6: notify.channels.s.slak: unknown key 'slak'; remove it or fix its spelling (did you mean 'slack'?)",
        ),
        (
            "  channels:\n    s: {slack: {webhook_url: 'https://x.example/y', channel: '#ops'}}\n",
            "notify.channels.s.slack.channel: unknown key 'channel'",
        ),
        (
            "  channels:\n    s: {}\n",
            "a channel has exactly one type key (slack, email, webhook, apprise, python), got none",
        ),
        (
            "  channels:\n    s: {slack: {webhook_url: 'https://x.example/y'}}\n  routes:\n    - {to: [slak]}\n",
            ":7: notify.routes: routes[0].to: unknown channel 'slak' (channels: s); define it under notify.channels",
        ),
        (
            "  channels:\n    s: {slack: {webhook_url: 'https://x.example/y'}}\n"
            "  routes:\n    - {match: {status: broken}, to: s}\n",
            ":8: notify.routes[0].match.status: expected one of 'failed', 'passed', 'completed' or 'resolved', got 'broken'",
        ),
        (
            "  channels:\n    s: {slack: {webhook_url: 'https://x.example/y'}}\n"
            "  routes:\n    - {match: {kinds: [htp]}, to: s}\n",
            "unknown check kind 'htp' (did you mean 'http'?)",
        ),
        ("  policy: {failure_threshold: 0}\n", "notify.policy.failure_threshold"),
        ("  heartbeat: {url: 'hc-ping.com/x'}\n", "expected an http:// or https:// URL"),
        (
            "  channels:\n    m: {email: {host: h, from: nobody, to: [a@b.c]}}\n",
            "expected an e-mail address like ops@example.com, got 'nobody'",
        ),
    ],
)
def test_errors_name_the_key_and_the_fix(tmp_path, notify: str, expected: str) -> None:
    assert expected in error(tmp_path, notify)
