"""Helpers of the terraform target's tests: render, write, parse back, run terraform offline.

`terraform init` and `terraform validate` cannot run here: they download the providers from the
registry, which the test machines cannot reach. What the tests do instead, with real tools: parse
every file with python-hcl2, `terraform fmt -check` the tree, and run `terraform plan`/`apply`
on provider-free slices of the modules (`variables.tf` and `locals.tf`, which reference no
resource) to evaluate the data and the variable validations with Terraform itself.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from compiler.target import Artifact


def terraform_artifacts(platform: Any) -> list[Artifact]:
    from targets import load_target

    return [a for a in load_target("terraform").render(platform) if a.path.startswith("terraform/")]


def write(artifacts: list[Artifact], root: Path) -> Path:
    for a in artifacts:
        target = root / a.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(a.text, encoding="utf-8")
    return root


def parse(text: str) -> dict[str, Any]:
    import hcl2
    from hcl2 import SerializationOptions

    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    result: dict[str, Any] = hcl2.loads(text, serialization_options=options)
    return result


def parse_module(files: dict[str, str]) -> dict[str, Any]:
    """Every .tf of one module, merged: block types map to the list of their blocks."""
    merged: dict[str, Any] = {}
    for name in sorted(files):
        if name.endswith(".tf"):
            for block_type, blocks in parse(files[name]).items():
                merged.setdefault(block_type, []).extend(blocks)
    return merged


def locals_of(module: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for block in module.get("locals", []):
        out.update(block)
    return out


def blocks(module: dict[str, Any], kind: str, type_name: str) -> dict[str, Any]:
    """`resource`/`data` blocks of one type, by name."""
    out: dict[str, Any] = {}
    for block in module.get(kind, []):
        out.update(block.get(type_name, {}))
    return out


def root_files(artifacts: list[Artifact], env: str, stage: str) -> dict[str, str]:
    """The files of one environment's root module (terraform/<env>/<stage>/*), by name."""
    prefix = f"terraform/{env}/{stage}/"
    return {a.path[len(prefix):]: a.text for a in artifacts if a.path.startswith(prefix) and "/" not in a.path[len(prefix):]}


def called_modules(root: dict[str, str]) -> dict[str, str]:
    """`module` block label -> the folder under terraform/modules/ its `source` names."""
    calls: dict[str, str] = {}
    for block in parse_module(root).get("module", []):
        for label, body in block.items():
            source = body["source"]
            assert source.startswith("../../modules/"), source
            calls[label] = source[len("../../modules/"):]
    return calls


def module_files(artifacts: list[Artifact], env: str, stage: str) -> dict[str, str]:
    """The files of one environment's root module and of every shared module it calls (as
    `modules/<folder>/<file>`): everything Terraform reads when it plans that root module."""
    return module_texts({a.path: a.text for a in artifacts}, env, stage)


def module_texts(files: dict[str, str], env: str, stage: str) -> dict[str, str]:
    """module_files, from a compiled tree's files by path."""
    prefix = f"terraform/{env}/{stage}/"
    root = {p[len(prefix):]: t for p, t in files.items() if p.startswith(prefix) and "/" not in p[len(prefix):]}
    if not root:
        return {}
    shared = {}
    for folder in set(called_modules(root).values()):
        inner = f"terraform/modules/{folder}/"
        shared.update({f"modules/{folder}/{p[len(inner):]}": t for p, t in files.items() if p.startswith(inner)})
    return {**root, **shared}


def call(module: dict[str, Any], label: str) -> dict[str, Any]:
    """The arguments of the root module's `module "<label>"` block."""
    (found,) = [block[label] for block in module.get("module", []) if label in block]
    result: dict[str, Any] = found
    return result


def terraform_env(home: Path) -> dict[str, str]:
    config = home / "terraformrc"
    config.write_text("", encoding="utf-8")
    return {**os.environ, "TF_CLI_CONFIG_FILE": str(config), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0", "NO_COLOR": "1"}


def run_terraform(binary: str, args: list[str], cwd: Path, extra_env: dict[str, str] | None = None,
                  ) -> subprocess.CompletedProcess[str]:
    env = terraform_env(cwd.parent if cwd.parent.exists() else cwd)
    env.update(extra_env or {})
    return subprocess.run([binary, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def evaluate_locals(binary: str, locals_tf: str, names: list[str], workdir: Path) -> dict[str, Any]:
    """The values Terraform itself gives the locals of `locals_tf` (no provider needed)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "locals.tf").write_text(locals_tf, encoding="utf-8")
    outputs = "".join(f'output "{n}" {{\n  value = local.{n}\n}}\n' for n in names)
    (workdir / "outputs.tf").write_text(outputs, encoding="utf-8")
    for args in (["init"], ["apply", "-auto-approve"]):
        done = run_terraform(binary, args, workdir)
        assert done.returncode == 0, done.stderr + done.stdout
    shown = run_terraform(binary, ["output", "-json"], workdir)
    assert shown.returncode == 0, shown.stderr
    return {k: v["value"] for k, v in json.loads(shown.stdout).items()}
