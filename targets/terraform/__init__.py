"""The terraform target: per environment, the cluster's foundations and one least-privilege
credential per workload, as two Terraform root modules applied in order.

- `terraform/<env>/cluster/`: namespaces, ServiceAccounts, RBAC for api_access, quotas and limit
  ranges, volume claims, the shared infrastructure's admin Secrets, the workloads' app Secrets,
  and the pinned Helm releases of Argo CD, Kyverno and the root application.
- `terraform/<env>/services/`, once Argo CD runs the object store and the broker: buckets,
  queues, one user per workload limited to what it declared, and its credentials Secret.

Both are thin: providers, the environment's values (`locals.tf`) and calls of the shared modules
in `terraform/modules/<concern>/`, written once per platform (calls.py says which, with what).
Their `moved.tf` carries a state of the earlier layout, where the root modules declared every
resource themselves, to the addresses inside the modules.

`terraform init` and `validate` need the provider registry, which the test suite cannot reach;
the tests parse every file with python-hcl2, run `terraform fmt -check`, evaluate `locals.tf`
with `terraform console`, and check the trust each workload gets against its `uses`.
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler import names
from compiler.diagnostics import Diagnostic
from compiler.ir import Platform
from compiler.target import Artifact


class TerraformTarget:
    name = "terraform"
    description = "namespaces, quotas, credentials, buckets, queues and the Argo CD / Kyverno installs"

    def check(self, platform: Platform) -> list[Diagnostic]:
        """GPC360: two environments that name one cluster would install Argo CD and Kyverno into
        it twice (every environment's Terraform owns its cluster's Argo CD and Kyverno)."""
        problems = []
        seen: dict[str, str] = {}
        for env in platform.environments:
            url = names.cluster_url(env.cluster)
            if url == names.IN_CLUSTER:
                continue  # every cluster calls itself that: it names no particular one
            if url in seen:
                problems.append(Diagnostic(
                    "GPC360", f"environments '{seen[url]}' and '{env.name}' both deliver to cluster '{env.cluster}'",
                    platform.spec_file, platform.position((*env.path, "cluster")),
                    hint="each environment's Terraform installs Argo CD and Kyverno into its own cluster; "
                         "give every environment a cluster of its own",
                ))
            else:
                seen[url] = env.name
        return problems

    def render(self, platform: Platform) -> list[Artifact]:
        from targets.terraform.render import render

        return render(platform)

    def render_parts(self, platform: Platform) -> Iterator[list[Artifact]]:
        yield self.render(platform)  # a few small files (under 20 MB at N=5000): one part


TARGET = TerraformTarget()
