"""Target files and receivers for the end-to-end notification tests (run with `run_checks`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.conftest import LocalHTTPServer, json_response
from tests.notify.conftest import SLACK_OK

HEARTBEAT = "/ping/0f1e2d3c-heartbeat"


@dataclass
class Service:
    """The checked service and every receiver, on one local HTTP server; `healthy` flips /api."""

    server: LocalHTTPServer
    healthy: bool = False

    def install(self, slack_path: str = "/services/T0/B0/slack-token") -> Service:
        self.slack_path = slack_path
        self.server.routes["/up"] = json_response({"status": "ok"})
        self.server.routes["/api"] = lambda _: json_response(
            {"status": "ok" if self.healthy else "down"}, 200 if self.healthy else 503
        )
        self.server.routes[slack_path] = SLACK_OK
        self.server.routes["/hook"] = (200, {}, b"{}")
        for suffix in ("", "/start", "/fail"):
            self.server.routes[HEARTBEAT + suffix] = (200, {}, b"OK")
        return self

    def posts(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.server.requests if r["path"].split("?")[0] == path]

    def slack_messages(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.posts(self.slack_path)]

    def heartbeat_paths(self) -> list[str]:
        return [r["path"] for r in self.server.requests if r["path"].startswith(HEARTBEAT)]

    def clear(self) -> None:
        self.server.requests.clear()


def target_yaml(
    url: str, notify: str, extra_checks: int = 0, slack_path: str = "/services/T0/B0/slack-token"
) -> str:
    checks = "".join(f"  ok-{i}: {{url: '{url}/up', tiers: [smoke, daily]}}\n" for i in range(extra_checks))
    return f"""\
target: shop-prod
http:
  api: {{url: '{url}/api', tiers: [smoke], severity: critical}}
  home: {{url: '{url}/up', tiers: [smoke, daily]}}
{checks}notify:
  channels:
    ops-slack: {{slack: {{webhook_url: '{url}{slack_path}', retries: 0}}}}
    ops-hook: {{webhook: {{url: '{url}/hook', retries: 0}}}}
{notify}
"""
