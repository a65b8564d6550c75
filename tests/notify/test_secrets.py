"""A canary secret in every secret field never appears in a message, the terminal or any written file."""

from __future__ import annotations

import json

from tests.conftest import json_response
from tests.notify.conftest import SMTP_USER

CANARY = "CANARY7f3a9c"


def test_canary_never_leaks(http_server, smtp_server, run_checks) -> None:
    url = http_server.url
    http_server.routes["*"] = (200, {}, b"ok")  # Slack, webhook, heartbeat and Apprise receivers
    http_server.routes["/api"] = lambda handler: json_response(
        {"status": "down", "echo": handler.headers.get("Authorization", "")}, 503
    )
    smtp_server.password = f"{CANARY}-smtp"
    env = {
        "SLACK_URL": f"{url}/services/T0/B0/{CANARY}-slack",
        "HOOK_URL": f"{url}/hook?token={CANARY}-hook",
        "SMTP_PASSWORD": f"{CANARY}-smtp",
        "APPRISE_URL": f"json://{CANARY}user:{CANARY}-apprise@127.0.0.1:{http_server.port}/apprise",
        "API_TOKEN": f"{CANARY}-bearer",
    }
    text = f"""\
target: vault
http:
  api: {{url: '{url}/api', auth: {{bearer: '${{API_TOKEN}}'}}, tiers: [smoke]}}
notify:
  channels:
    slack: {{slack: {{webhook_url: '${{SLACK_URL}}'}}}}
    hook: {{webhook: {{url: '${{HOOK_URL}}', hmac_key: '{CANARY}-hmac'}}}}
    down: {{webhook: {{url: 'http://127.0.0.1:9/services/{CANARY}-down', retries: 0}}}}
    mail: {{email: {{host: 127.0.0.1, port: {smtp_server.port}, starttls: false, username: {SMTP_USER},
                    password: '${{SMTP_PASSWORD}}', from: ops@example.com, to: [oncall@example.com]}}}}
    pager: {{apprise: {{url: '${{APPRISE_URL}}'}}}}
  routes:
    - {{match: {{status: [failed, completed]}}, to: [slack, hook, down, mail, pager]}}
  heartbeat: {{url: '{url}/ping/{CANARY}-heartbeat'}}
"""
    run = run_checks(text, env=env)
    dry = run_checks(text, "--notify-dry-run", env=env)
    assert run.returncode == 1
    assert dry.returncode == 1
    # every channel was really exercised, and the failure reached the messages
    bodies = [r["body"].decode("utf-8", "replace") for r in http_server.requests]
    paths = {r["path"].split("?")[0].split("/")[1] for r in http_server.requests}
    assert {"services", "hook", "ping", "apprise", "api"} <= paths
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["Subject"] == "[FAILED] vault smoke: 1 of 1 check failed"
    assert any("status: expected 200, got 503" in b for b in bodies)
    journal = [json.loads(line) for line in (run.reports / "notifications.jsonl").read_text().splitlines()]
    assert {j["channel"]: j["status"] for j in journal if j["kind"] == "message"} == {
        "slack": "sent",
        "hook": "sent",
        "down": "failed",
        "mail": "sent",
        "pager": "sent",
    }
    assert any(CANARY in r["path"] for r in http_server.requests)  # the canary was live in the URLs
    assert "***" in run.files_text()  # the echoed bearer token was there, masked
    captured = {
        "terminal": run.output,
        "dry-run terminal": dry.output,
        "reports folder (summary, junit, allure, state, notifications.jsonl)": run.files_text(),
        "messages received": "\n".join(bodies),
        "e-mail": smtp_server.messages[0].as_string(),
    }
    for where, text_seen in captured.items():
        assert CANARY not in text_seen, f"secret leaked into {where}"
