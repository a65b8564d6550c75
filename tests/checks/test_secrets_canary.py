"""A canary secret in every secret-capable field of failing checks never reaches the terminal or a report."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import quote

from tests.backups.s3.motoserver import AuthS3
from tests.conftest import LocalHTTPServer, Response, RunResult, json_response, refused_port


def echo_headers(request: BaseHTTPRequestHandler) -> Response:
    """A misbehaving debug endpoint: fails, and echoes the request's headers (credentials included)."""
    headers = dict(request.headers)
    lines = "\n".join(f"{name}: {value}" for name, value in headers.items())
    return 500, {"Content-Type": "text/plain"}, f"{json.dumps(headers)}\n{lines}\n".encode()


def run_with_every_report(
    run_checks: Callable[..., RunResult], target: str, reports: Path, env: dict[str, str]
) -> RunResult:
    """A run of `target` whose checks fail, verbose, writing the JUnit file and Allure results under
    `reports` too (every place a secret could reach)."""
    __tracebackhide__ = True
    result = run_checks(
        target,
        "-v",
        "--junitxml",
        str(reports / "junit.xml"),
        "--alluredir",
        str(reports / "allure-results"),
        env=env,
    )
    assert result.returncode == 1, result.output
    return result


def assert_never_shown(result: RunResult, values: Iterable[str]) -> None:
    """None of `values` is in the terminal output or in any file under reports/."""
    __tracebackhide__ = True
    files = result.files_text()
    for value in values:
        assert value not in result.output, f"{value} leaked to the terminal"
        assert value not in files, f"{value} leaked to a file under reports/"


def test_canary_never_appears_in_output_or_reports(
    run_checks: Callable[..., RunResult],
    http_server: LocalHTTPServer,
    redis_url: str,
    pg_url: str,
    tmp_path: Path,
) -> None:
    canary = f"canary-{secrets.token_hex(8)}"
    basic = base64.b64encode(f"ops:{canary}".encode()).decode()
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "password.txt").write_text(canary + "\n")
    http_server.routes["/echo"] = echo_headers
    http_server.routes["/health"] = json_response({"ok": False, "error": "bad token"}, 401)
    down, pg_server = refused_port(), pg_url.split("@", 1)[1].rsplit("/", 1)[0]
    target = f"""
target: canary
http:
  bearer-env:
    url: {http_server.url}/echo
    auth: {{bearer: "${{CANARY}}"}}
    expect: {{json: {{ok: true}}}}
  basic-file:
    url: {http_server.url}/echo
    auth: {{basic: {{username: ops, password_file: secrets/password.txt}}}}
    expect: {{body_not_regex: "Authorization"}}
  bearer-literal:
    url: {http_server.url}/health?token={canary}
    auth: {{bearer: {canary}}}
    expect: {{json: {{ok: true}}}}
postgres:
  env-url: {{url: "postgresql://postgres:${{CANARY}}@127.0.0.1:{down}/app", connect_timeout: 2}}
  unknown-db: {{url: "postgresql://postgres:${{CANARY}}@{pg_server}/opsverify_canary_nodb"}}
  password-file: {{url: "postgresql://postgres@127.0.0.1:{down}/app", password_file: secrets/password.txt}}
  literal-url: {{url: "postgresql+psycopg://postgres:{canary}@127.0.0.1:{down}/app"}}
  bad-url: {{url: "postgresql://postgres:{canary}%ZZ@127.0.0.1:{down}/app"}}
redis:
  wrong-password: {{url: "redis://opsverify:${{CANARY}}@{redis_url.split("://", 1)[1]}"}}
  password-file: {{url: "redis://127.0.0.1:{down}/0", password_file: secrets/password.txt}}
"""
    reports = tmp_path / "reports"
    result = run_with_every_report(run_checks, target, reports, {"CANARY": canary})
    # The canary was really used: the server saw it, and every check ran and failed.
    sent = [r["headers"].get("Authorization", "") for r in http_server.requests]
    assert f"Bearer {canary}" in sent
    assert f"Basic {basic}" in sent
    for name in ("bearer-env", "basic-file", "bearer-literal"):
        assert f"target.yaml::http:{name} FAILED" in result.output
    for name in ("env-url", "unknown-db", "password-file", "literal-url", "bad-url"):
        assert f"target.yaml::postgres:{name} FAILED" in result.output
    for name in ("wrong-password", "password-file"):
        assert f"target.yaml::redis:{name} FAILED" in result.output
    assert (reports / "junit.xml").is_file()
    assert any((reports / "allure-results").iterdir())
    assert_never_shown(result, (canary, quote(canary), basic))


def test_each_secret_rule_masks_its_canary_and_hosts_ports_paths_stay_readable(
    run_checks: Callable[..., RunResult], http_server: LocalHTTPServer, tmp_path: Path
) -> None:
    """One canary per rule (so a rule that stops registering leaks its own canary); and what is not secret --
    an exported SITE_URL, hosts, ports, paths -- is printed as it is, so a failure says where."""
    canary = {rule: f"{rule}-{secrets.token_hex(6)}" for rule in ("name", "listed", "cookie", "userinfo",
                                                                  "urlpw", "hook")}  # fmt: skip
    http_server.routes["/echo"] = echo_headers
    http_server.routes[f"/hook/{canary['hook']}"] = json_response({"ok": True})
    down, port = refused_port(), http_server.port
    target = f"""
target: rules
secret_env: [UPSTREAM_VALUE]
http:
  site-down:
    url: ${{SITE_URL}}/health.json
  echo-env-name:
    url: ${{ECHO_URL}}/echo
    headers: {{X-Upstream: "${{API_TOKEN}}", X-Listed: "${{UPSTREAM_VALUE}}", Cookie: "sid={canary["cookie"]}"}}
  echo-userinfo:
    url: http://{canary["userinfo"]}@127.0.0.1:{port}/echo
postgres:
  url-from-env: {{url: "${{DATABASE_URL}}", connect_timeout: 2}}
notify:
  channels:
    hook: {{webhook: {{url: "${{ECHO_URL}}/hook/{canary["hook"]}"}}}}
  routes:
    - {{match: {{status: failed}}, to: [hook]}}
"""
    reports = tmp_path / "reports"
    result = run_with_every_report(
        run_checks,
        target,
        reports,
        {
            "SITE_URL": f"http://127.0.0.1:{down}",
            "ECHO_URL": http_server.url,
            "API_TOKEN": canary["name"],
            "UPSTREAM_VALUE": canary["listed"],
            "DATABASE_URL": f"postgresql://ops:{canary['urlpw']}@127.0.0.1:{down}/app",
        },
    )
    # Every canary really went out (to the server, in its headers and URL) and came back in the echo.
    echoed = [r for r in http_server.requests if r["path"] == "/echo"]
    sent = json.dumps([r["headers"] for r in echoed])
    for rule in ("name", "listed", "cookie"):
        assert canary[rule] in sent, rule
    assert "echo-userinfo FAILED" in result.output  # its URL (with the token) is in the failure's text
    hooks = [r["body"].decode() for r in http_server.requests if r["path"].startswith("/hook/")]
    assert len(hooks) == 1, result.output
    files = result.files_text()
    for rule, value in canary.items():
        for text, where in ((result.output, "the terminal"), (files, "reports/"), (hooks[0], "the message")):
            assert value not in text, f"the {rule} canary leaked to {where}"
    # Readable: the exported SITE_URL, the refused host:port, the paths.
    summary = json.loads((reports / "summary.json").read_text())
    site = next(check for check in summary["checks"] if check["id"] == "http:site-down")
    for text in (
        result.output,
        site["reason"] + site["details"],
        (reports / "junit.xml").read_text(),
        hooks[0],
    ):
        assert f"127.0.0.1:{down}" in text
    assert f"http://127.0.0.1:{down}/health.json" in result.output
    assert f"127.0.0.1:{port}/echo" in result.output
    assert "***:***" not in result.output
    assert "***/health.json" not in result.output


def test_s3_credentials_never_appear(
    run_checks: Callable[..., RunResult], moto_s3_auth: AuthS3, tmp_path: Path
) -> None:
    """Every credential field of `s3:`, from the environment and written literally, with a bucket that
    refuses them, one that is down, and a reader whose valid keys read a broken object."""
    canary = {
        field: f"{field}-{secrets.token_hex(8)}" for field in ("key", "secret", "token", "lkey", "lsecret")
    }
    endpoint, bucket, down = moto_s3_auth.server.endpoint, moto_s3_auth.bucket, refused_port()
    reader_key, reader_secret = moto_s3_auth.reader
    target = f"""
target: canary-s3
backups:
  env-keys:
    path: s3://{bucket}/db/
    s3: {{endpoint_url: "{endpoint}", region: us-east-1, access_key_id: "${{S3_KEY}}",
          secret_access_key: "${{S3_SECRET}}", session_token: "${{S3_TOKEN}}", retries: 0}}
  literal-keys:
    path: s3://{bucket}/db/
    s3: {{endpoint_url: "http://127.0.0.1:{down}", access_key_id: {canary["lkey"]},
          secret_access_key: {canary["lsecret"]}, retries: 0, timeout: 2}}
  reader:
    path: s3://{bucket}/db/
    s3: {{endpoint_url: "{endpoint}", region: us-east-1, access_key_id: "${{READER_KEY}}",
          secret_access_key: "${{READER_SECRET}}"}}
"""
    reports = tmp_path / "reports"
    result = run_with_every_report(
        run_checks,
        target,
        reports,
        {
            "S3_KEY": canary["key"],
            "S3_SECRET": canary["secret"],
            "S3_TOKEN": canary["token"],
            "READER_KEY": reader_key,
            "READER_SECRET": reader_secret,
        },
    )
    for name in ("env-keys", "literal-keys", "reader"):
        assert f"target.yaml::backups:{name} FAILED" in result.output
    assert "(InvalidAccessKeyId)" in result.output  # the canary key id was sent, and refused
    assert "trailer" in result.output  # the reader's keys worked: the object was read (it is cut short)
    assert f"127.0.0.1:{down}" in result.output  # where it failed stays readable
    assert_never_shown(result, [*canary.values(), reader_key, reader_secret])
