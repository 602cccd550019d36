"""Custom resources against their CRDs' schemas, without a cluster (tests/crds/).

Two checks, because the CRDs' OpenAPI schemas carry no `additionalProperties: false`: the
@kubernetes-models packages' ajv validators (types, enums, patterns, required fields), and
TypeScript's excess-property check of each object typed as the package's interface of its kind,
which rejects a key the CRD does not define at any depth.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from conftest import ROOT, require_tool, unavailable

CRDS = ROOT / "tests" / "crds"
# (apiVersion, kind) -> the TypeScript module of its interface `I<kind>`.
TYPINGS = {
    ("argoproj.io/v1alpha1", "Application"): "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application",
    ("argoproj.io/v1alpha1", "ApplicationSet"): "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet",
    ("argoproj.io/v1alpha1", "AppProject"): "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject",
    ("gateway.networking.k8s.io/v1", "Gateway"): "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway",
    ("gateway.networking.k8s.io/v1", "HTTPRoute"):
        "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute",
    ("cert-manager.io/v1", "Certificate"): "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate",
    ("keda.sh/v1alpha1", "ScaledObject"): "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject",
    ("keda.sh/v1alpha1", "TriggerAuthentication"):
        "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication",
    ("external-secrets.io/v1", "ExternalSecret"):
        "@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret",
    ("external-secrets.io/v1", "ClusterSecretStore"):
        "@kubernetes-models/external-secrets/external-secrets.io/v1/ClusterSecretStore",
    ("generators.external-secrets.io/v1alpha1", "Password"):
        "@kubernetes-models/external-secrets/generators.external-secrets.io/v1alpha1/Password",
    ("monitoring.coreos.com/v1", "ServiceMonitor"):
        "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor",
    ("monitoring.coreos.com/v1", "PodMonitor"): "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor",
    ("monitoring.coreos.com/v1", "PrometheusRule"):
        "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule",
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"):
        "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig",
}


def crd_tools() -> tuple[str, str]:
    node = require_tool("node")
    tsc = CRDS / "node_modules" / ".bin" / "tsc"
    packages = ("argo-cd", "gateway-api", "cert-manager", "keda", "external-secrets", "prometheus-operator")
    if not all((CRDS / "node_modules" / "@kubernetes-models" / p).is_dir() for p in packages) or not tsc.exists():
        unavailable("the CRD models are not installed (run `make setup-test`)")
    return node, str(tsc)


def schema_errors(node: str, objects: list[dict[str, Any]]) -> list[str]:
    done = subprocess.run([node, str(CRDS / "validate_crds.mjs")], input=json.dumps(objects), cwd=CRDS,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    errors: list[str] = json.loads(done.stdout)
    return errors


def unknown_key_errors(tsc: str, objects: list[dict[str, Any]], workdir: Path) -> list[str]:
    kinds = sorted({(o["apiVersion"], o["kind"]) for o in objects})
    source = [f'import type {{ I{k} as I{k}{i} }} from "{TYPINGS[(v, k)]}";' for i, (v, k) in enumerate(kinds)]
    alias = {vk: f"I{vk[1]}{i}" for i, vk in enumerate(kinds)}
    source += [f"export const o{i}: {alias[(o['apiVersion'], o['kind'])]} = {json.dumps(o)};"
               for i, o in enumerate(objects)]
    (workdir / "objects.ts").write_text("\n".join(source) + "\n", encoding="utf-8")
    (workdir / "tsconfig.json").write_text(json.dumps({
        "compilerOptions": {"strict": True, "noEmit": True, "module": "nodenext", "moduleResolution": "nodenext",
                            "skipLibCheck": True, "types": []},
        "files": ["objects.ts"],
    }), encoding="utf-8")
    link = workdir / "node_modules"
    if not link.exists():
        link.symlink_to(CRDS / "node_modules", target_is_directory=True)
    done = subprocess.run([tsc, "-p", str(workdir)], cwd=workdir, capture_output=True, text=True, timeout=300)
    errors = [line for line in done.stdout.splitlines() if "error TS" in line]
    assert bool(errors) == (done.returncode != 0), done.stdout + done.stderr
    return errors
