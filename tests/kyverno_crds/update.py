"""Refresh the vendored Kyverno CRD schemas from a Kyverno source checkout.

    git -C kyverno checkout v1.19.0   # ee97ce09, the app version of the chart terraform pins
    python tests/kyverno_crds/update.py kyverno

writes the `v1` openAPIV3Schema of each CRD gpc emits, without descriptions, as sorted JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
CRDS = {
    "clusterpolicies": "config/crds/kyverno/kyverno.io_clusterpolicies.yaml",
    "validatingpolicies": "config/crds/policies.kyverno.io/policies.kyverno.io_validatingpolicies.yaml",
    "imagevalidatingpolicies": "config/crds/policies.kyverno.io/policies.kyverno.io_imagevalidatingpolicies.yaml",
    "generatingpolicies": "config/crds/policies.kyverno.io/policies.kyverno.io_generatingpolicies.yaml",
}


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def main(checkout: Path) -> None:
    for name, path in CRDS.items():
        crd = yaml.safe_load((checkout / path).read_text("utf-8"))
        [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
        schema = {"group": crd["spec"]["group"], "kind": crd["spec"]["names"]["kind"],
                  "openAPIV3Schema": _strip(version["schema"]["openAPIV3Schema"])}
        (HERE / f"{name}.v1.json").write_text(json.dumps(schema, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
