"""The spec's `previews` block: a preview environment per pull request (issue 17).

A top-level block rather than a key of one environment: a preview copies one environment (`from`)
into the cluster of that same environment, so naming it once keeps "which environment" and "where"
from disagreeing. The semantic checks are in compiler/semantic_preview.py (GPC290-GPC297), the
lowering in compiler/lower_preview.py.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from compiler.model import Quantity, Strict, Text, Whole


class PreviewAllow(Strict):
    """Which pull requests may get a preview besides the opted-in ones of people. Off by default."""

    model_config = ConfigDict(title="Preview allow")
    bots: bool = Field(False, description="Pull requests opened by bots (Dependabot, Renovate): off, so "
                       "dependency bumps do not each start a copy of the platform.")
    drafts: bool = Field(False, description="Draft pull requests: off, a preview starts once the pull "
                         "request is ready for review.")
    forks: bool = Field(False, description="Pull requests from forks. Must stay off: a fork's "
                        "`pull_request` run has a read-only token and no secrets, so it cannot push the "
                        "preview image, and gpc never uses `pull_request_target` (GPC296).")


class PreviewQuota(Strict):
    """The ResourceQuota of one preview's namespace (limits)."""

    model_config = ConfigDict(title="Preview quota")
    cpu: Quantity = Field("4", description="Total CPU limits of every pod of one preview.")
    memory: Quantity = Field("8Gi", description="Total memory limits of every pod of one preview.")
    pods: Whole = Field(30, description="Most pods of one preview.")


class Previews(Strict):
    """A preview environment per pull request on a workload's repository: the whole platform of
    `from` in a namespace of its own, with the pull request's image for that workload."""

    model_config = ConfigDict(title="Previews")
    from_: str = Field(alias="from", description="The environment a preview copies, and whose cluster and "
                       "Argo CD run it.", examples=["dev"])
    label: Text = Field("preview", description="The pull request label that asks for a preview. CI adds "
                        "`<label>-ready` once the image is pushed; Argo CD deploys pull requests with both.",
                        examples=["preview"])
    ttl: Text = Field("72h", description="How long a preview may live, in hours or days (`72h`, `3d`); "
                      "the janitor workflow removes the label after that. From 1h to 30d.", examples=["72h"])
    max: Whole = Field(5, description="Most previews of one repository "
                                                        "at once; the janitor removes the oldest beyond that.")
    quota: PreviewQuota = Field(default_factory=PreviewQuota, description="Resource quota of each preview.")
    allow: PreviewAllow = Field(default_factory=PreviewAllow, description="Bots, drafts and forks: off.")
    requeue_after: Text = Field("5m", description="How often Argo CD asks GitHub for pull requests when no "
                                "webhook tells it sooner (the generator's `requeueAfterSeconds`).",
                                examples=["5m"])
