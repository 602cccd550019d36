"""gpc, the golden path compiler: one platform.yaml compiled into a proven GitOps repository."""

from __future__ import annotations

__version__ = "0.1.0"
