"""`gpc init`: a commented starter spec for a new user to edit.

It validates and compiles as written (tests/test_init.py compiles it and builds an overlay with
kubectl kustomize); the commented blocks show the next things people add.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# A platform name short enough for every name gpc derives from it (`<name>-<env>-services`...).
NAME = re.compile(r"^[a-z]([a-z0-9-]{0,28}[a-z0-9])?$")

_STARTER = """\
# yaml-language-server: $schema={schema}
#
# {name}: a platform spec for gpc, the golden path compiler. Your editor completes and checks
# it from the schema named on the first line (hover over a key to read what it does). Then:
#   gpc validate {spec}              check everything: references, names, guardrails
#   gpc compile {spec}               write the GitOps tree at gitops.path (out/{stem}/)
#   gpc explain {spec} hello         every value of a workload and where it comes from
#   gpc env {spec} hello             its environment variables for a local run
version: 1
name: {name}                  # lowercase letters, digits, '-': part of every namespace name
registry: ghcr.io/acme        # images are <registry>/<workload name>: use your registry

gitops:
  repo: https://github.com/acme/platform-gitops.git   # the repository Argo CD syncs from
  branch: main
  # path: out/{stem}          # where the compiled tree lives in that repository (the default)

environments:
  dev:
    cluster: https://kubernetes.default.svc   # the cluster this environment's Argo CD runs in
  # prod:                                     # every environment is a cluster of its own
  #   cluster: https://prod.k8s.example.com
  #   auto_sync: false                        # changes wait for a manual sync
  #   overrides:
  #     workloads:
  #       hello: {{replicas: 3}}

guardrails:
  allowed_registries: [ghcr.io/acme]          # the cluster admits images from these only

# messaging:
#   queues:
#     orders: {{dead_letter: true}}
# storage:
#   buckets:
#     uploads: {{versioning: true}}

workloads:
  hello:
    type: service               # a long-running HTTP server; `job` is a batch or scheduled job
    repo: acme/hello            # the GitHub repository whose CI builds and delivers the image
    port: 8080
    replicas: 2
    resources: {{cpu: 250m, memory: 256Mi}}
    health: {{path: /healthz}}     # liveness and readiness probes
    env:
      LOG_LEVEL: info
    # uses:                     # what it talks to; each entry becomes environment variables
    #   orders: {{queue: orders, access: publish}}    # ORDERS_QUEUE, AMQP_URL
    #   uploads: {{bucket: uploads, access: read}}    # UPLOADS_BUCKET, S3_ENDPOINT, S3_*_KEY

  # nightly-report:
  #   type: job
  #   repo: acme/reports
  #   schedule: "0 3 * * *"     # a cron schedule, quoted
  #   timeout: 30m
  #   uses:
  #     orders: {{queue: orders, access: consume}}
  #     reports: {{bucket: uploads, access: write}}
"""


def starter_spec(spec: str, stem: str, name: str, schema: str) -> str:
    """The starter spec. `spec`: its path as the user types it; `schema`: the modeline's path,
    relative to the spec's folder."""
    return _STARTER.format(spec=spec, stem=stem, name=name, schema=schema)


def default_name(stem: str) -> str:
    """The platform's name: the file's stem when it is a good name (`shop.yaml` -> shop)."""
    return stem if NAME.match(stem) and stem != "platform" else "my-platform"


def write_starter(path: Path, name: str | None, schema: Path) -> list[str]:
    """Write the starter spec at `path` (FileExistsError if anything is there) and the schema
    its modeline names, unless that exists. Returns what was written."""
    from compiler.pipeline import spec_name

    stem = spec_name(path)
    modeline = Path(os.path.relpath(os.path.abspath(schema), os.path.abspath(path.parent))).as_posix()
    text = starter_spec(path.as_posix(), stem, name or default_name(stem), modeline)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as fh:  # "x": never overwrite, even in a race
        fh.write(text)
    wrote = [path.as_posix()]
    if not schema.exists():
        from compiler.schema import schema_text

        schema.parent.mkdir(parents=True, exist_ok=True)
        schema.write_text(schema_text(), encoding="utf-8")
        wrote.append(schema.as_posix())
    return wrote
