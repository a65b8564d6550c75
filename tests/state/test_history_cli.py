"""`opsverify history CHECK_ID`: the last runs of a check from the state store."""

from __future__ import annotations

from opsverify.cli import main
from tests.notify.e2e import Service, target_yaml


def test_history_shows_the_last_runs_with_their_figures(
    http_server, run_checks, tmp_path, monkeypatch, capsys
) -> None:
    service = Service(http_server).install()
    text = target_yaml(service.server.url, "  routes: []\n")
    for healthy in (False, True):
        service.healthy = healthy
        run_checks(text)
    # the two real runs above are separate processes; `opsverify history` only reads their state store
    monkeypatch.setenv("OPSVERIFY_STATE_DIR", str(tmp_path / "reports" / "state"))
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["history", "http:api", "--target", str(tmp_path / "target.yaml")]) == 0, capsys.readouterr()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "http:api on shop-prod: the last 2 runs, newest first"
    assert " passed " in lines[1]
    assert " failed " in lines[2]
    assert "status: expected 200, got 503" in lines[2]
    assert "latency_ms=" in lines[1]
    assert main(["history", "http:nope", "--target", str(tmp_path / "target.yaml")]) == 1
    assert "no runs of http:nope on shop-prod" in capsys.readouterr().out
