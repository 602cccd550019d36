"""specs/fraud.yaml, the platform the preview tests use: it offers previews of dev, and it has a
broker, a bucket, an exposed service and a database, so a preview runs its own of each.

Until previews had databases of their own (GPC299 refused them) the tests used fraud without its
database; the name stays, for the tests that import it.
"""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT


def fraud_with_previews() -> Path:
    return ROOT / "specs" / "fraud.yaml"
