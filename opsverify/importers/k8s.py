"""`opsverify import k8s FILE...`: http/tcp checks from the liveness/readiness/startup probes of
Deployments, StatefulSets and DaemonSets (multi-document YAML), on a `${VAR}` base URL per workload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opsverify.importers.compose import optional_kind
from opsverify.importers.draft import Draft, ImportProblem, quote
from opsverify.importers.source import load_documents

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def import_k8s(files: list[Path], target: str) -> Draft:
    draft = Draft(target, ", ".join(file.name for file in files))
    workloads = 0
    for file in files:
        documents = load_documents(file)
        if not documents or not all(isinstance(d.data, dict) for d in documents):
            raise ImportProblem(
                f"{file}: not Kubernetes manifests: expected YAML documents with `kind:` and `spec:`"
            )
        for document in documents:
            kind = document.data.get("kind")
            if kind not in WORKLOADS:
                if kind not in ("Service", "ConfigMap", "Secret", "Ingress", "Namespace", None):
                    draft.skip(
                        f"{file.name}:{document.line(())}: {kind} {_name(document.data)}: not a workload with probes"
                    )
                continue
            workloads += 1
            containers = (((document.data.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
                "containers"
            ) or []
            for index, container in enumerate(containers):
                for probe_key in PROBES:
                    probe = container.get(probe_key)
                    if isinstance(probe, dict):
                        path = ("spec", "template", "spec", "containers", index, probe_key)
                        _probe(
                            draft,
                            file.name,
                            document,
                            path,
                            _name(document.data),
                            container,
                            probe_key,
                            probe,
                        )
    if not workloads:
        raise ImportProblem(
            f"{', '.join(map(str, files))}: no Deployment, StatefulSet or DaemonSet found; nothing to import"
        )
    if not draft.entry_count() and not draft.not_converted:
        raise ImportProblem(
            f"{', '.join(map(str, files))}: no liveness/readiness/startup probe found; nothing to import"
        )
    return draft


def _name(data: dict[str, Any]) -> str:
    return str((data.get("metadata") or {}).get("name") or "unnamed")


def _port(container: dict[str, Any], port: Any) -> int | None:
    if isinstance(port, int):
        return port
    for item in container.get("ports") or []:
        if item.get("name") == port:
            return int(item["containerPort"])
    return None


def _probe(
    draft: Draft,
    file: str,
    document: Any,
    path: tuple[Any, ...],
    workload: str,
    container: dict[str, Any],
    probe_key: str,
    probe: dict[str, Any],
) -> None:
    kind = probe_key.removesuffix("Probe")
    name = (
        f"{workload}-{container.get('name', 'app')}-{kind}"
        if len(document.data["spec"]["template"]["spec"]["containers"]) > 1
        else f"{workload}-{kind}"
    )
    if "httpGet" in probe:
        get = probe["httpGet"]
        port = _port(container, get.get("port"))
        scheme = str(get.get("scheme", "HTTP")).lower()
        base = draft.var(f"{workload}_URL", f"{scheme}://{workload}:{port or 80}")
        entry: dict[str, Any] = {
            "description": quote(
                file,
                document.line((*path, "httpGet")),
                f"{workload} {probe_key}: httpGet {get.get('path', '/')} port {get.get('port')}",
            ),
            "url": base + str(get.get("path", "/")),
            "expect": {"status": [200, 201, 202, 204]},  # the kubelet accepts 200-399; redirects are followed
        }
        headers = {str(h["name"]): str(h["value"]) for h in get.get("httpHeaders") or [] if "name" in h}
        if headers:
            entry["headers"] = headers
        if scheme == "https":
            entry["verify"] = False  # the kubelet does not verify probe certificates
        draft.add("http", name, entry)
    elif "tcpSocket" in probe:
        port = _port(container, probe["tcpSocket"].get("port"))
        host = draft.var(f"{workload}_HOST", workload)
        optional_kind(
            draft,
            "tcp",
            name,
            {
                "description": quote(
                    file,
                    document.line((*path, "tcpSocket")),
                    f"{workload} {probe_key}: tcpSocket port {port}",
                ),
                "host": host,
                "port": port or 0,
            },
            f"{file}:{document.line(path)}: {workload} {probe_key} tcpSocket",
        )
    elif "exec" in probe:
        command = " ".join(str(word) for word in probe["exec"].get("command") or [])
        draft.skip(
            f"{file}:{document.line(path)}: {workload} {probe_key} exec `{command[:60]}`: a command run inside the container"
        )
    elif "grpc" in probe:
        draft.skip(
            f"{file}:{document.line(path)}: {workload} {probe_key} grpc: opsverify has no gRPC health check"
        )
