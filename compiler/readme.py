"""The README at the top of every compiled tree, where a platform engineer starts: how to roll the
platform out from zero, in order, the platform as a graph, and what each folder is for."""

from __future__ import annotations

from compiler import markdown, names, readme_cluster
from compiler.ir import Environment, Platform
from compiler.target import Artifact
from compiler.yamlout import flat

_FOLDERS = {
    "kustomize": "one base per workload and one overlay per environment; Argo CD builds the overlays",
    "argocd": "the AppProject, ApplicationSets and the root application that delivers everything",
    "kyverno": "Kyverno policies enforcing the guardrails and image signatures in the cluster",
    "terraform": "namespaces, quotas, credentials, buckets, queues and the Argo CD / Kyverno installs",
    "github": "the CI workflows of each workload's repository and of this platform repository",
}

_LEGEND = (
    "Rounded boxes are services, double-edged boxes jobs, hexagons scheduled jobs (CronJobs), flags "
    "queues, cylinders buckets, trapezoids volumes. Arrows point the way data flows and say the access "
    "each workload was granted: `publish`, `consume`, `read`, `write`, `readwrite`, `mount`, `calls`."
)


_cell = markdown.cell


def _terraform_readme(env: Environment) -> str:
    return f"terraform/{env.name}/README.md"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def rollout(platform: Platform) -> list[str]:
    """What a platform engineer does, in order, to go from empty clusters to a promoted workload.

    The one place that says the whole order; each folder's README says how to do its own step and
    links back here.
    """
    envs = platform.environments
    first = envs[0]
    shared = bool(platform.buckets or platform.queues)
    built = [w for w in platform.workloads if w.repo]
    secrets = [w for w in platform.workloads if w.terraform_secrets]
    repo, path = markdown.code(platform.gitops_repo), markdown.code(platform.gitops_path or ".")
    credential = ("a deploy key of that repository (read-only)" if names.gitops_over_ssh(platform.gitops_repo)
                  else "a GitHub App installed on that repository with **Contents: read** only (not the App "
                       "CI writes with)")
    order = ", then ".join(f"`{e.name}`" for e in envs)
    inputs = ["the cluster's kube context", "the repository credential"]
    if platform.pull_secret:
        inputs.append("the registry logins the images are pulled with (`TF_VAR_registry_credentials`)")
    if secrets:
        inputs.append("the values of the workloads' declared secrets (`TF_VAR_app_secrets`; the plan fails while "
                      "one is missing: " + ", ".join(f"`{w.name}`" for w in secrets) + ")")
    stores = any(e.secret_store is not None for e in envs)
    operators = sorted({o for e in envs for o in platform.operators(e)})
    step = 0

    def item(title: str, text: str) -> str:
        nonlocal step
        step += 1
        return f"{step}. **{title}.** {text}"

    lines = [
        "## Roll out from zero",
        "",
        "What a platform engineer does, in order. Every environment is a cluster of its own with its own Argo CD; "
        f"do steps 3 to {4 + shared + stores} for each environment ({order}) before its workloads are delivered.",
        "",
        item("Commit this tree", f"Push it to {repo}, branch {markdown.code(platform.gitops_branch)}, folder "
             f"{path}: every Argo CD application reads it from there, and `gpc compile --check` in CI keeps it "
             "equal to the spec."),
        item("A read-only credential for Argo CD", f"Create {credential}. Terraform stores it in the cluster as "
             "Argo CD's repository Secret; see [Argo CD](argocd/README.md#reading-the-gitops-repository)."),
        item("The cluster", "In `terraform/<env>/cluster/`: `terraform init`, then `terraform apply` with "
             + _and(inputs) + ". It creates the namespaces, service accounts, quotas, data volumes (which "
             "Terraform will not destroy) and admin Secrets, installs Kyverno and Argo CD, then the repository "
             "Secret, and last the root application. The environment's `terraform/<env>/README.md` lists every "
             "variable."),
        *([item("The secret store's credential", store_step(platform))] if stores else []),
        item("Argo CD takes over", "The root application syncs `argocd/<env>/` in waves, each waiting for the "
             "previous one to be healthy: the AppProject; the Kyverno policies (`kyverno/`) and the namespace-wide "
             "NetworkPolicies" + (" (with the operators: " + ", ".join(_OPERATORS[o] for o in operators) + ")"
                                  if operators else "") + "; "
             + ("the secret store; " if stores else "")
             + ("the shared infrastructure (object store, broker); " if shared else "")
             + ("the databases, after their operator (Argo CD's own health check for a CloudNativePG `Cluster` "
                "holds the next wave until each is in its healthy phase); " if platform.databases else "")
             + _autoscalers(platform)
             + "the ApplicationSets of the workloads. These platform layers sync on their own in every environment, "
             "`auto_sync` or not; `kubectl -n argocd get applications` shows them reach Healthy. See "
             "[Argo CD](argocd/README.md#bootstrap)."),
    ]
    if shared:
        lines.append(item("The services", "Once the shared infrastructure is healthy, in `terraform/<env>/services/`: "
                          "`terraform init` and `terraform apply`. It creates the buckets, queues and vhost, one "
                          "user per workload limited to what it declared, and each workload's credentials Secret; "
                          "until then the workloads that use them wait for that Secret."))
    lines.append(item("CI of this repository", "Install the drift gate and the guard `gpc-guard` (each "
                      "workload's CI may change only its own image files), set `GPC_CI_IDENTITIES` and import "
                      "the branch ruleset that makes the guard required, as "
                      "[`github/platform/README.md`](github/platform/README.md) says."))
    if built:
        links = ", ".join(f"[`{w.name}`](github/{w.name}/README.md)" for w in built)
        lines.append(item("CI of each workload repository", "Copy its `.github/`, create its own GitHub App and "
                          "its `gitops` environment (the App's key, readable from the default branch only) as its "
                          f"README lists: {links}."))
        automatic = "automatically" if first.auto_sync else "once someone syncs the workload's Application"
        lines.append(item("First delivery", f"A merge into a workload repository's default branch builds, tests, "
                          f"pushes and signs its image, and opens a pull request here that writes the tag into "
                          f"`{first.name}`'s CI-owned image file; GitHub merges it once `gpc-guard` passes, and "
                          f"Argo CD in `{first.name}` deploys it {automatic}."))
        if len(envs) > 1:
            lines.append(item("Promotion", "Each later environment gets the image the one before it runs through "
                              "the workload's promote workflow, which opens a pull request here; merging it "
                              "deploys, after a manual sync where the environment's workloads are manual (table "
                              "below)."))
    lines += ["", "| environment | cluster | Terraform | root application | workloads sync |", "|---|---|---|---|---|"]
    for env in envs:
        root = names.argocd_root_application(platform.name, env.name)
        sync = ("automatically" if env.auto_sync
                else f"by hand: `{names.argocd_application(platform.name, env.name, '<workload>')}`")
        lines.append(f"| `{env.name}` | {_cell(env.cluster)} | [`{_terraform_readme(env)}`]({_terraform_readme(env)}) "
                     f"| `{root}` | {sync} |")
    return [*lines, "", *readme_cluster.section(platform)]


def _autoscalers(platform: Platform) -> str:
    """What the rollout says of KEDA, where a workload scales on queue depth."""
    text = ""
    envs = [e.name for e in platform.environments if platform.scales_on_queues(e.name)]
    if not envs:
        return text
    where = "" if len(envs) == len(platform.environments) else f" (in {', '.join(f'`{e}`' for e in envs)})"
    return text + (f"KEDA{where}, the autoscaler of the workloads that scale on a queue's depth, from its pinned chart "
            f"into the `{names.KEDA_NAMESPACE}` namespace with its CRDs, in a project of its own that alone may "
            "install cluster-wide objects; ")


_OPERATORS = {names.EXTERNAL_SECRETS: "External Secrets, which writes secrets from the store",
              names.RELOADER: "Reloader, which restarts a workload when a Secret it reads changes"}


def store_step(platform: Platform) -> str:
    """What the platform engineer gives External Secrets: a credential of the store, once per environment."""
    parts = []
    for env in platform.environments:
        store = env.secret_store
        if store is None:
            continue
        keys = {w.name: sorted({s.key for s in w.store_secrets}) for w in platform.workloads if w.store_secrets}
        every = ", ".join(f"`{k}`" for k in sorted({k for ks in keys.values() for k in ks}))
        if store.provider == "vault":
            grant = (f"an AppRole at `{store.approle_path}` of {_cell(store.server or '')} whose policy may only read "
                     f"{every} under `{store.path}/` (KV {store.version})")
        else:
            grant = (f"an access key that may only `sts:AssumeRole` `{store.role}`, which may only "
                     f"`secretsmanager:GetSecretValue` {every} in `{store.region}`" if store.role else
                     f"an access key that may only `secretsmanager:GetSecretValue` {every} in `{store.region}`")
        literals = " ".join(f"--from-literal={k}=..." for k in store.credential_keys)
        parts.append(f"`{env.name}`: {grant}, stored as `kubectl -n {env.infra_namespace} create secret generic "
                     f"{names.SECRET_STORE_CREDENTIALS} {literals}`")
    return ("As soon as `terraform apply` has created the namespaces, give External Secrets its read-only "
            "credential of the environment's secret store: the ClusterSecretStore reads it from the infra namespace, "
            "which no workload can read; until it exists the store is not ready, the root application waits at its "
            "wave, and no workload is delivered. "
            + "; ".join(parts) + ". Put the values themselves in the store under those keys. Rotating a value "
            "there restarts the workloads that read it within the refresh interval (Reloader).")


def render_readme(platform: Platform) -> Artifact:
    """The README describes the whole tree whatever targets were compiled this time:
    `gpc compile --target X` updates one folder of a tree whose layout stays the same."""
    from compiler.graph import build_graph, to_mermaid

    lines = [
        f"<!-- Generated by gpc from {flat(platform.spec_file).replace('--', '- -')}. Do not edit. -->",
        f"# {platform.name}",
        "",
    ]
    if platform.description:
        lines += [platform.description, ""]
    lines += [
        f"Compiled by gpc from `{platform.spec_file}`. Change the spec, then run "
        f"`gpc compile {platform.spec_file}`; CI runs `gpc compile --check` and fails when this tree is stale.",
        "",
        *rollout(platform),
        "## The platform",
        "",
        "```mermaid",
        to_mermaid(build_graph(platform)).rstrip("\n"),
        "```",
        "",
        _LEGEND,
        "",
        f"Print it again with `gpc graph {platform.spec_file}` (`--format dot` or `svg` for Graphviz); "
        f"`gpc explain {platform.spec_file} WORKLOAD --env ENV` shows every value of one workload and where it "
        "comes from.",
        "",
        "## Folders",
        "",
        "| folder | what it holds |",
        "|---|---|",
    ]
    lines += [f"| `{folder}/` | {what} |" for folder, what in _FOLDERS.items()]
    lines += [
        "| `kustomize/<workload>/base/` | what every environment (and every preview) of a workload starts from |",
        "| `kustomize/<workload>/components/` | what several environments' overlays of a workload hold alike, "
        "written once: `shared/` for all of them, `<env>+<env>/` for some |",
        f"| `{names.overlay_dir('<workload>', '<env>')}/` | what Argo CD deploys for one workload in one environment: "
        "the base, the components above, and only what differs there |",
        f"| `{names.image_component_dir('<workload>', '<env>')}/` | the image tag; owned by the workload's CI, "
        "which rewrites it after each build (gpc writes it once, never again). Until CI's first delivery it "
        f"holds `{names.BOOTSTRAP_TAG}` (unless the spec names an existing `image_tag`) and keeps the workload "
        "scaled to zero or suspended |",
        f"| `{names.platform_overlay_dir('<env>')}/` | namespace-wide objects of one environment: default-deny "
        "network policies and what they allow |",
        f"| `{names.argocd_dir('<env>')}/` | everything the Argo CD of one environment's cluster syncs |",
    ]
    lines += ["", "## Environments", "", "| environment | cluster | namespaces | Argo CD root application | workload sync |",
              "|---|---|---|---|---|"]
    for env in platform.environments:
        namespaces = ", ".join(f"`{ns}`" for ns in env.namespaces.values())
        root = names.argocd_root_application(platform.name, env.name)
        sync = "automatic" if env.auto_sync else "manual"
        lines.append(f"| `{env.name}` | {_cell(env.cluster)} | {namespaces} | `{root}` | {sync} |")
    if platform.previews is not None:
        p = platform.previews
        lines += ["", f"Pull requests labelled `{p.label}` get a preview: a copy of `{p.from_env}` in a namespace "
                  f"`pr-<repo>-<number>` of its own, for at most {p.ttl_seconds // 3600}h, at most {p.max} per "
                  "repository. What starts one, and what removes what in which order: "
                  "[argocd/previews.md](argocd/previews.md)."]
    lines += ["", "## Workloads", "", "| workload | type | repository | uses | environments |",
              "|---|---|---|---|---|"]
    for w in platform.workloads:
        kind = w.type if w.type == "service" or all(p.schedule is None for p in w.placements) else "job (scheduled)"
        uses = ", ".join(f"{u.kind} `{u.target}`" + (f" ({u.access})" if u.access else "") for u in w.uses) or "-"
        envs = ", ".join(p.env for p in w.placements)
        lines.append(f"| `{w.name}` | {kind} | {_cell(w.repo or '-')} | {uses} | {envs} |")
    return Artifact("README.md", "\n".join(lines) + "\n")
