"""Escaping: no spec value can change the structure of the HCL (or README, or chart) gpc writes.

python-hcl2 reads the files back and must find every value exactly as it went in; Terraform
itself (`fmt -check`, and `apply` on the provider-free `locals.tf`) must agree, up to the NFC
normalisation Terraform applies to every string it reads.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import unicodedata
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from conftest import ROOT, require_tool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_terraform_support import evaluate_locals, locals_of, parse, parse_module, run_terraform, write

from compiler import ir, names
from compiler.lower import lower
from compiler.model import Platform as SpecModel
from compiler.target import Artifact
from targets.terraform import data, hcl, render, rootapp

FRAGMENTS = ['"', "\\", "${", "%{", "$${", "%%{", "}", "{", "\n", "\r\n", "\r", "\t", "\x00", "\x1b", "\x7f",
             "\u0085", "\u2028", "\u2029", "\ufeff", "\u200b", "é", "e\u0301", "😀", "#", "//", "/*", "*/",
             "<<EOF\n", "EOF", "=", "[", "]", ",", "`", "``", "-->", "<!--", "{{", "}}", "\\n", '\\"', " ", "$",
             "%", "~"]
hostile = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), min_size=1, max_size=8).map("".join)


def _hcl_round_trip(values: list[str]) -> list[str]:
    text = "locals {\n  s = " + hcl.value(values, 1) + "\n  k = " + hcl.value({v: i for i, v in enumerate(values)}, 1)
    parsed = locals_of(parse(text + "\n}\n"))
    assert list(parsed["k"]) == values
    return list(parsed["s"])


@settings(max_examples=300, deadline=None)
@given(st.lists(hostile, min_size=1, max_size=5, unique=True))
def test_strings_and_keys_read_back_exactly(values: list[str]) -> None:
    assert _hcl_round_trip(values) == values


@settings(max_examples=1, deadline=None)
@given(values=st.lists(hostile, min_size=40, max_size=40, unique=True))
def test_terraform_reads_the_same_strings(values: list[str], tmp_path_factory: pytest.TempPathFactory) -> None:
    terraform = require_tool("terraform")
    tricky = ["$${", "a$$${b}", "%%%{x}", "${x}", "%{ if true }", "\\u0041", "x\u2028y", "\x00", "q\"", "😀"]
    values = tricky + [v for v in values if v not in tricky]
    text = "locals {\n  s = " + hcl.value(values, 1) + "\n  k = " + hcl.value({v: v for v in values}, 1) + "\n}\n"
    got = evaluate_locals(terraform, text, ["s", "k"], tmp_path_factory.mktemp("tf"))
    nfc = [unicodedata.normalize("NFC", v) for v in values]
    assert got["s"] == nfc
    assert got["k"] == dict(zip(nfc, nfc, strict=True))


def test_comment_cannot_end_its_line() -> None:
    for text in ("a\nb", "a\rb", "a\u2028b", "a\u0085b", "a\x00b", "a\r\nb"):
        flat = hcl.comment(text)
        assert len(flat.splitlines()) == 1 and flat.startswith("a") and flat.endswith("b")
        assert parse(f"# {flat}\nx = 1\n") == {"x": 1}


def test_templates_print_only_escaped_values() -> None:
    from targets.terraform.templates import environment

    template = environment().from_string("x = {{ value }}\n")
    with pytest.raises(TypeError, match="without escaping"):
        template.render(value='"; y = "injected')
    assert template.render(value=hcl.string('"; y = "x')) == 'x = "\\"; y = \\"x"\n'


nested = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), hostile),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(hostile, inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=1, deadline=None)
@given(items=st.lists(nested, min_size=30, max_size=30))
def test_layout_is_what_terraform_fmt_writes(items: list[Any], tmp_path_factory: pytest.TempPathFactory) -> None:
    terraform = require_tool("terraform")
    body = "".join(f"  v{i} = {hcl.value(item, 1)}\n\n" for i, item in enumerate(items)).rstrip("\n") + "\n"
    workdir = tmp_path_factory.mktemp("fmt")
    (workdir / "main.tf").write_text("locals {\n" + body + "}\n", encoding="utf-8")
    done = run_terraform(terraform, ["fmt", "-check", "-diff", "."], workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [locals_of(parse((workdir / "main.tf").read_text()))[f"v{i}"] for i in range(len(items))] == items


# -- a hostile spec --------------------------------------------------------------------------------

_FRAUD = yaml.safe_load((ROOT / "specs" / "fraud.yaml").read_text())


def _rename(mapping: dict[str, Any], old: str, new: str) -> None:
    mapping[new] = mapping.pop(old)


def _hostile_platform(s: list[str]) -> ir.Platform:
    """fraud.yaml with a hostile string in every field that reaches the Terraform output.

    Names bypass gpc's semantic checks (which would refuse them) on purpose: the escaping must hold
    even for a value no valid spec can carry. Environment names stay valid: they are folder names.
    """
    spec = copy.deepcopy(_FRAUD)
    spec["name"] = "p" + s[0]
    spec["description"] = s[1]
    spec["gitops"].update(repo="https://" + s[2], branch=s[3], path=s[4])
    spec["environments"]["dev"].update(cluster="https://" + s[5], namespace_prefix=s[6])
    spec["environments"]["prod"]["cluster"] = "https://" + s[7]
    workload, bucket, queue, volume = "w" + s[8], "b" + s[9], "q" + s[10], "v" + s[11]
    _rename(spec["workloads"], "checkout", workload)
    _rename(spec["storage"]["buckets"], "fraud-models", bucket)
    _rename(spec["messaging"]["queues"], "checkout-events", queue)
    _rename(spec["storage"]["volumes"], "model-artifacts", volume)
    spec["storage"]["buckets"][bucket]["description"] = s[12]
    spec["messaging"]["queues"][queue]["description"] = s[13]
    spec["storage"]["volumes"][volume]["storage_class"] = s[14]
    for w in spec["workloads"].values():
        w["description"] = s[15]
        for use in w.get("uses", {}).values():
            for kind, new in (("bucket", bucket), ("queue", queue), ("volume", volume)):
                if kind in use:
                    use[kind] = new
    spec["workloads"][workload]["secrets"] = ["API_TOKEN"]
    spec["workloads"]["fraud-inference"]["api_access"] = True
    return lower(SpecModel.model_validate(spec), s[16], "fraud")


def _root_stand_in(platform: ir.Platform, env: ir.Environment) -> list[dict[str, Any]]:
    """Root documents shaped like compiler/rootapp.py's, so that a fault there cannot hide one here."""
    return [{
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": names.argocd_root_application(platform.name, env.name), "namespace": "argocd"},
        "spec": {"project": "default", "source": {"repoURL": platform.gitops_repo, "path": platform.gitops_path}},
    }]


def _render(platform: ir.Platform) -> dict[str, str]:
    with mock.patch.object(rootapp, "root_documents", _root_stand_in):
        return {a.path: a.text for a in render.render(platform)}


def _skeleton(item: Any) -> Any:
    """The structure of parsed HCL with every string replaced: what escaping must never change."""
    if isinstance(item, dict):
        return {k: _skeleton(v) for k, v in item.items()}
    if isinstance(item, list):
        return [_skeleton(v) for v in item]
    return type(item).__name__


def _json(item: Any) -> Any:
    return json.loads(json.dumps(item))


SAFE = ["x"] * 17
_BASELINE = _hostile_platform(SAFE)


@functools.cache
def _baseline() -> tuple[dict[str, str], dict[str, Any]]:
    files = _render(_BASELINE)
    skeletons = {}
    for path, text in files.items():
        if path.endswith(".tf"):
            parsed = parse(text)
            parsed.pop("locals", None)
            skeletons[path] = _skeleton(parsed)
    return files, skeletons


def _decode(body: str) -> str:
    value: str = parse(f'x = "{body}"\n')["x"]
    return value


def _check(platform: ir.Platform, files: dict[str, str]) -> None:
    baseline, skeletons = _baseline()
    assert sorted(files) == sorted(baseline)
    for path, text in files.items():
        if path.endswith(".tf"):
            parsed = parse(text)
            parsed.pop("locals", None)
            assert _skeleton(parsed) == skeletons[path], path
            assert text.split("\n", 1)[0] == "# Generated by gpc from " + hcl.comment(platform.spec_file) + \
                ". Do not edit: change the spec and run `gpc compile`."
        elif path.endswith("README.md"):
            assert len(text.splitlines()) == len(baseline[path].splitlines()), path
            assert [ln for ln in text.splitlines() if ln.startswith("#")] == \
                   [ln for ln in baseline[path].splitlines() if ln.startswith("#")], path
        elif path.endswith("templates/root.yaml"):
            template = re.fullmatch(r'\{\{- /\*(.*?)\*/ -\}\}\n\{\{ \.Files\.Get "files/root\.yaml" \}\}\n', text, re.S)
            assert template is not None and "*/" not in template.group(1), text
    for env in platform.environments:
        root = names.argocd_root_application(platform.name, env.name)
        modules = {
            stage: parse_module({p.rsplit("/", 1)[1]: t for p, t in files.items()
                                 if p.startswith(f"terraform/{env.name}/{stage}/") and p.count("/") == 3})
            for stage in ("cluster", "services")
        }
        cluster = locals_of(modules["cluster"])
        assert cluster == _json(data.cluster(platform, env, root).entries())
        services = locals_of(modules["services"])
        credential_data = services.pop("credential_data")
        assert services == _json(data.services(platform, env).entries())
        for workload, values in credential_data.items():
            for expression in values.values():
                # Every resource instance it reads (a broker or object-store user, a database's role:
                # `postgresql_role.<database>["<workload>"]`) is the workload's own.
                indexed = {_decode(i) for i in re.findall(r'\b[A-Za-z_][\w-]*\.[A-Za-z_][\w-]*\["((?:[^"\\]|\\.)*)"\]',
                                                          expression)}
                assert indexed == {workload}, expression
        variables = {k: v for block in modules["cluster"]["variable"] for k, v in block.items()}
        assert env.cluster in variables["kubeconfig_path"]["description"]
        assert yaml.safe_load(files[f"terraform/{env.name}/cluster/root-app/Chart.yaml"])["name"] == "argocd-root"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=st.lists(hostile, min_size=17, max_size=17))
def test_hostile_spec_values_never_change_the_structure(s: list[str]) -> None:
    platform = _hostile_platform(s)
    _check(platform, _render(platform))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=st.lists(hostile, min_size=17, max_size=17))
def test_terraform_agrees_on_hostile_output(s: list[str], tmp_path_factory: pytest.TempPathFactory) -> None:
    terraform = require_tool("terraform")
    platform = _hostile_platform(s)
    files = _render(platform)
    root = tmp_path_factory.mktemp("hostile")
    write([Artifact(p, t) for p, t in files.items()], root)
    done = run_terraform(terraform, ["fmt", "-check", "-recursive", "-diff", "terraform"], root)
    assert done.returncode == 0, done.stdout + done.stderr
    for env in platform.environments:
        expected = data.services(platform, env).entries()
        text = files[f"terraform/{env.name}/services/locals.tf"]
        got = evaluate_locals(terraform, text, list(expected), root / "eval" / env.name)

        def nfc(item: Any) -> Any:
            if isinstance(item, str):
                return unicodedata.normalize("NFC", item)
            if isinstance(item, dict):
                return {nfc(k): nfc(v) for k, v in item.items()}
            if isinstance(item, list):
                return [nfc(v) for v in item]
            return item

        assert got == nfc(_json(expected))


def test_baseline_is_a_real_platform() -> None:
    files = _render(_BASELINE)
    assert any(p.endswith("services/main.tf") and 'module "credentials"' in t for p, t in files.items())
    assert any(p.endswith("cluster/main.tf") and 'module "app_secrets"' in t for p, t in files.items())
    assert any("kubernetes_role_v1" in t for t in files.values())
    assert Path(ROOT / "specs" / "fraud.yaml").is_file()
