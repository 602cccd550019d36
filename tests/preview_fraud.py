"""specs/fraud.yaml with previews, for the preview tests.

The fraud platform has a database, and previews of a platform with databases are refused (GPC299: a
preview has no database server of its own yet). The preview tests need a whole platform with a broker,
a bucket and an exposed service, so they use fraud without its database, with the previews block it had.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import yaml
from conftest import ROOT

PREVIEWS = {"from": "dev", "label": "preview", "ttl": "72h", "max": 5,
            "quota": {"cpu": "4", "memory": "8Gi", "pods": 20}}


@functools.cache
def fraud_with_previews() -> Path:
    data = yaml.safe_load((ROOT / "specs" / "fraud.yaml").read_text("utf-8"))
    del data["storage"]["databases"]
    for workload in data["workloads"].values():
        uses = workload.get("uses", {})
        for alias in [a for a, use in uses.items() if "database" in use]:
            del uses[alias]
    data["previews"] = PREVIEWS
    spec = Path(tempfile.mkdtemp(prefix="gpc-preview-fraud-")) / "fraud.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return spec
