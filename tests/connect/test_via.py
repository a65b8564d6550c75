"""The `via:` key and the local backend: schemes, malformed URLs, options that do not fit, no password."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from opsverify.connect import Via, connect, glob
from opsverify.redaction import redact


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host", "unknown via: scheme 'ftp'"),
        (
            "app1",
            "expected local, ssh://user@host[:port], docker://container or docker://compose/PROJECT/SERVICE",
        ),
        ("ssh://", "malformed ssh URL"),
        ("ssh://ops@host:99999", "malformed ssh URL"),
        ("ssh://ops@host/path", "malformed ssh URL"),
        ("docker://", "malformed docker URL"),
        ("docker://compose/shop", "write docker://compose/PROJECT/SERVICE"),
        ("docker://compose//api", "write docker://compose/PROJECT/SERVICE"),
        ("docker://compose/shop/api/x", "write docker://compose/PROJECT/SERVICE"),
        ("docker://compose/Shop/api", "'Shop' in 'docker://compose/Shop/api' is not a compose project name"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Via.model_validate({"url": url})


def test_password_in_an_ssh_url_is_refused_and_masked() -> None:
    with pytest.raises(ValidationError) as caught:
        Via.model_validate({"url": "ssh://ops:hunter9-canary@app1"})
    assert "hunter9-canary" not in redact(str(caught.value))
    assert "keys only" in str(caught.value)


def test_options_that_do_not_fit_the_scheme() -> None:
    with pytest.raises(ValidationError, match="`identity` is for ssh:// only"):
        Via.model_validate({"url": "docker://api", "identity": "k"})
    with pytest.raises(ValidationError, match="`docker_host` is for docker:// only"):
        Via.model_validate({"url": "ssh://a@b", "docker_host": "unix:///x"})
    with pytest.raises(ValidationError, match="`identity` is not a private key"):
        Via.model_validate({"url": "ssh://a@b", "identity": "/home/me/.ssh/id_ed25519"})


def test_describe() -> None:
    assert Via.model_validate({"url": "ssh://deploy@app1:2222"}).describe() == "deploy@app1:2222"
    assert Via.model_validate({"url": "ssh://deploy@app1:22"}).describe() == "deploy@app1"
    assert Via.model_validate({"url": "docker://api-1"}).describe() == "container api-1"
    assert Via.model_validate({"url": "docker://compose/shop_1/api"}).describe() == (
        "compose service api of project shop_1"
    )
    assert Via.model_validate({"url": "docker://compose"}).describe() == "container compose"  # a plain name
    assert Via().describe() == "this machine"


def test_local_backend(tmp_path: Path) -> None:
    (tmp_path / "x.log").write_text("a\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "y.log").write_text("b\n")
    with connect(None) as machine:
        result = machine.run(["sh", "-c", "echo hi; exit 2"], timeout=5)
        assert (result.exit_code, result.text()) == (2, "hi\n")
        hung = machine.run("sleep 30", timeout=0.5)
        assert hung.timed_out
        assert hung.exit_code is None
        assert [entry.path for entry in glob(machine, f"{tmp_path}/*/*.log")] == [
            str(tmp_path / "sub" / "y.log")
        ]
        assert machine.stat(str(tmp_path / "sub")).is_dir  # type: ignore[union-attr]
        with machine.open(str(tmp_path / "x.log")) as stream:
            assert stream.read() == b"a\n"
