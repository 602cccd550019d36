"""`gpc graph` and the compiled README's diagram, read back by the tools that render them.

Mermaid output is parsed by Mermaid itself (tests/lsp/mermaid_parse.mjs, the library GitHub
renders markdown diagrams with); DOT output by Graphviz (`dot -Tcanon` parses it, `dot -Tsvg`
renders it and the test reads the rendered node and edge texts back). Names in a valid spec are
DNS labels, so the hostile-name tests build an IR directly, as a future looser name rule or a
bug upstream would.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, all_spec_files, load_ir, require_tool, spec_id, unavailable

from compiler.cli import main
from compiler.graph import Graph, build_graph, build_preview_graph, to_dot, to_mermaid
from compiler.ir import Platform
from compiler.readme import render_readme

LSP = ROOT / "tests" / "lsp"
FRAUD = ROOT / "specs" / "fraud.yaml"
GPU_CRON = ROOT / "tests" / "cases" / "valid" / "gpu-cron" / "platform.yaml"
MERMAID_SHAPES = {"service": "stadium", "worker": "square", "job": "subroutine", "cronjob": "hexagon", "queue": "odd",
                  "bucket": "cylinder", "volume": "trapezoid", "database": "cylinder", "host": "lean_right"}


def edges_by_name(graph: Graph) -> set[tuple[str, str, str, bool]]:
    name = {n.id: n.name for n in graph.nodes}
    return {(name[e.source], name[e.target], e.label, e.both_ways) for e in graph.edges}


# -- the graph ---------------------------------------------------------------------------------


def test_fraud_graph_nodes_and_edges() -> None:
    graph = build_graph(load_ir(FRAUD))
    assert {(n.name, n.kind) for n in graph.nodes} == {
        ("checkout", "service"), ("fraud-inference", "service"), ("fraud-trainer", "cronjob"),
        ("checkout-events", "queue"), ("fraud-models", "bucket"), ("model-artifacts", "volume"),
        ("transactions", "database"),
    }
    assert edges_by_name(graph) == {
        ("checkout", "checkout-events", "publish", False),
        ("checkout-events", "fraud-trainer", "consume", False),
        ("fraud-trainer", "fraud-models", "write", False),
        ("fraud-models", "fraud-inference", "read", False),
        ("checkout", "fraud-inference", "calls", False),
        ("fraud-trainer", "model-artifacts", "mount", True),
        ("checkout", "transactions", "owner", True),
        ("transactions", "fraud-trainer", "read", False),
    }
    trainer = next(n for n in graph.nodes if n.name == "fraud-trainer")
    assert trainer.detail == "cron dev: 0 */6 * * *, prod: 0 */3 * * *", "a prod override of the schedule shows"


def test_readwrite_read_only_mounts_and_one_off_jobs() -> None:
    graph = build_graph(load_ir(GPU_CRON))
    edges = edges_by_name(graph)
    assert ("api", "images", "readwrite", True) in edges
    assert ("datasets", "trainer", "mount (read-only)", False) in edges, "a read-only mount only flows in"
    assert ("backfill", "datasets", "mount", True) in edges
    assert ("labeler", "api", "calls", False) in edges
    assert ("uploads", "labeler", "consume", False) in edges
    kinds = {n.name: n.kind for n in graph.nodes}
    assert kinds["backfill"] == "job" and kinds["trainer"] == "cronjob"


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_every_use_is_an_edge(spec: Path) -> None:
    platform = load_ir(spec)
    graph = build_graph(platform)
    assert len(graph.edges) == sum(len(w.uses) for w in platform.workloads)
    ids = [n.id for n in graph.nodes]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", i) for i in ids)
    assert len(graph.nodes) == len(platform.workloads) + len(platform.queues) + len(platform.buckets) + len(
        platform.volumes) + len(platform.databases)


# -- hostile names -----------------------------------------------------------------------------

HOSTILE = [
    'a"] --> pwned["x',
    "end",
    "x]]; click x call alert(1) %%",
    "<script>alert(1)</script><br/>",
    "line\nbreak\r\ttab",
    "back\\slash \\N \\G \\l \\n",
    "#quot; #35; &amp; &lt; `md` **b**",
    "a|b{c}(d)[e]<f>;g",
    'dot"];\n  evil -> pwn;\n  x["',
    "ünïcödé ☃ subgraph",
    "--> -.-> ==> o--o",
    "style svc_x fill:#f00",
]


def rename(platform: Platform, names: list[str]) -> Platform:
    """The same platform with every workload, queue, bucket, volume and database renamed (uses follow)."""
    old = [w.name for w in platform.workloads] + [q.name for q in platform.queues] + [
        b.name for b in platform.buckets] + [v.name for v in platform.volumes] + [d.name for d in platform.databases]
    new = dict(zip(old, (names * 3)[: len(old)], strict=True))

    def use(u: Any) -> Any:
        return dataclasses.replace(u, target=new[u.target])

    return dataclasses.replace(
        platform,
        name=names[0],
        workloads=tuple(dataclasses.replace(w, name=new[w.name], uses=tuple(use(u) for u in w.uses))
                        for w in platform.workloads),
        queues=tuple(dataclasses.replace(q, name=new[q.name]) for q in platform.queues),
        buckets=tuple(dataclasses.replace(b, name=new[b.name]) for b in platform.buckets),
        volumes=tuple(dataclasses.replace(v, name=new[v.name]) for v in platform.volumes),
        databases=tuple(dataclasses.replace(d, name=new[d.name], roles=tuple(
            dataclasses.replace(r, workload=new[r.workload]) for r in d.roles)) for d in platform.databases),
    )


def hostile_platforms() -> list[Platform]:
    fraud, wide = load_ir(FRAUD), load_ir(GPU_CRON)
    return [rename(fraud, HOSTILE[:6]), rename(fraud, HOSTILE[6:]), rename(wide, HOSTILE[3:] + HOSTILE[:3])]


@functools.cache
def all_platforms() -> list[tuple[str, Platform]]:
    return [(spec_id(s), load_ir(s)) for s in all_spec_files()] + [
        (f"hostile{i}", p) for i, p in enumerate(hostile_platforms())]


# -- Mermaid, parsed by Mermaid ----------------------------------------------------------------


def mermaid_parse(texts: list[str]) -> list[dict[str, Any]]:
    require_tool("node")
    if not (LSP / "node_modules" / "mermaid").is_dir():
        unavailable("tests/lsp/node_modules/mermaid is missing: run `cd tests/lsp && npm install` (or `make setup-test`)")
    done = subprocess.run(["node", str(LSP / "mermaid_parse.mjs")], input=json.dumps(texts), capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def mermaid_decode(text: str) -> str:
    """Labels are HTML: the browser decodes their entities when it draws them."""
    return html.unescape(text)


@pytest.fixture(scope="module")
def parsed_mermaid() -> dict[str, tuple[Graph, dict[str, Any]]]:
    platforms = all_platforms()
    graphs = [build_graph(p) for _, p in platforms]
    readme = render_readme(load_ir(FRAUD)).text
    block = readme.split("```mermaid\n", 1)[1].split("```", 1)[0]
    results = mermaid_parse([to_mermaid(g) for g in graphs] + [block, 'flowchart LR\n  a["x"]] --> b\n'])
    assert results[-1]["ok"] is False, "the parser rejects a broken diagram (negative control)"
    out = {name: (g, r) for (name, _), g, r in zip(platforms, graphs, results, strict=False)}
    out["readme"] = (build_graph(load_ir(FRAUD)), results[-2])
    return out


def controls(text: str) -> str:
    """gpc draws line breaks and other control characters in a name as spaces."""
    return re.sub(r"[\x00-\x1f\x7f]", " ", text)


def check_mermaid(graph: Graph, result: dict[str, Any]) -> None:
    assert result["ok"], result.get("error")
    assert result["type"] == "flowchart-v2"
    vertices = result["vertices"]
    assert set(vertices) == {n.id for n in graph.nodes}, "no name added or lost a node"
    for node in graph.nodes:
        vertex = vertices[node.id]
        assert mermaid_decode(vertex["text"]) == f"{controls(node.name)}<br><small>{node.detail}</small>"
        assert vertex["type"] == MERMAID_SHAPES[node.kind]
        assert vertex["classes"] == [node.kind]
    edges = {(e["start"], e["end"], e["text"], e["type"]) for e in result["edges"]}
    assert edges == {(e.source, e.target, e.label, "double_arrow_point" if e.both_ways else "arrow_point")
                     for e in graph.edges}
    assert len(result["edges"]) == len(graph.edges)


@pytest.mark.parametrize("name", [spec_id(s) for s in all_spec_files()] + ["hostile0", "hostile1", "hostile2"])
def test_mermaid_parses_to_the_same_graph(parsed_mermaid: dict[str, tuple[Graph, dict[str, Any]]], name: str) -> None:
    check_mermaid(*parsed_mermaid[name])


def test_the_readme_diagram_parses_to_the_graph(parsed_mermaid: dict[str, tuple[Graph, dict[str, Any]]]) -> None:
    check_mermaid(*parsed_mermaid["readme"])


# -- Mermaid, drawn by a browser -----------------------------------------------------------------

RENDER_PAGE = """<!doctype html><html><body>{blocks}
<script src="{script}"></script>
<script>
mermaid.initialize({{startOnLoad: false, securityLevel: "strict"}});
(async () => {{
  // One at a time, each with its own id: Mermaid's generated ids repeat under virtual time.
  for (const [i, pre] of [...document.querySelectorAll("pre.mermaid")].entries()) {{
    pre.innerHTML = (await mermaid.render("diagram" + i, pre.textContent)).svg;
  }}
}})().then(() => {{ document.body.dataset.done = "ok"; }},
           (err) => {{ document.body.dataset.done = "error: " + err; }});
</script></body></html>"""


class _Drawn(HTMLParser):
    """Text of each node and edge label Mermaid drew, per diagram (`<pre id="dN">`)."""

    def __init__(self) -> None:
        super().__init__()
        self.diagram = ""
        self.stack: list[str | None] = []  # for each open <g>: the node id or "edge" it starts, or None
        self.nodes: dict[str, dict[str, list[str]]] = {}
        self.edges: dict[str, list[str]] = {}
        self.done = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "body":
            self.done = a.get("data-done") or ""
        if tag == "pre" and a.get("id"):
            self.diagram = a["id"] or ""
            self.nodes[self.diagram], self.edges[self.diagram] = {}, []
        if tag != "g":
            return
        classes = (a.get("class") or "").split()
        match = re.search(r"-flowchart-(.+)-\d+$", a.get("id") or "")
        if "node" in classes and match:
            self.stack.append(match.group(1))
            self.nodes[self.diagram][match.group(1)] = []
        elif "edgeLabel" in classes:
            self.stack.append("edge")
            self.edges[self.diagram].append("")
        else:
            self.stack.append(None)

    def handle_endtag(self, tag: str) -> None:
        if tag == "g":
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        owner = next((o for o in reversed(self.stack) if o is not None), None)
        if owner == "edge":
            self.edges[self.diagram][-1] += data
        elif owner is not None and data.strip():
            self.nodes[self.diagram][owner].append(data)


def test_mermaid_draws_every_name_as_text(tmp_path: Path) -> None:
    """What a reader sees on GitHub: the names and details, not entity codes or markup."""
    chromium = require_tool("chromium")
    script = LSP / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
    if not script.is_file():
        unavailable("tests/lsp/node_modules/mermaid is missing: run `cd tests/lsp && npm install`")
    graphs = [build_graph(load_ir(FRAUD)), *(build_graph(p) for p in hostile_platforms())]
    blocks = "".join(f'<pre class="mermaid" id="d{i}">{html.escape(to_mermaid(g))}</pre>' for i, g in enumerate(graphs))
    page = tmp_path / "page.html"
    page.write_text(RENDER_PAGE.format(blocks=blocks, script=script.as_uri()), "utf-8")
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}",
                           "--virtual-time-budget=20000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False, env={**os.environ, "HOME": str(tmp_path)})
    drawn = _Drawn()
    drawn.feed(done.stdout)
    assert drawn.done == "ok", (drawn.done, done.stderr[-2000:])
    for i, graph in enumerate(graphs):
        nodes, edges = drawn.nodes[f"d{i}"], drawn.edges[f"d{i}"]
        # Mermaid draws a literal `\n` in a label as a line break (its own convention).
        assert {k: spaces(" ".join(v)) for k, v in nodes.items()} == {
            n.id: spaces(f"{n.name.replace(chr(92) + 'n', ' ')} {n.detail}") for n in graph.nodes}
        assert sorted(edges) == sorted(e.label for e in graph.edges)


# -- DOT, parsed and rendered by Graphviz ------------------------------------------------------


def render_svg(dot: str) -> ET.Element:
    exe = require_tool("dot")
    canon = subprocess.run([exe, "-Tcanon"], input=dot, capture_output=True, text=True, check=False)
    assert canon.returncode == 0 and not canon.stderr, canon.stderr
    svg = subprocess.run([exe, "-Tsvg"], input=dot, capture_output=True, text=True, check=True)
    return ET.fromstring(svg.stdout)


SVG = "{http://www.w3.org/2000/svg}"


def spaces(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("index", range(len(all_spec_files()) + 3))
def test_dot_renders_the_same_graph(index: int) -> None:
    _, platform = all_platforms()[index]
    graph = build_graph(platform)
    root = render_svg(to_dot(graph))
    groups = list(root.iter(f"{SVG}g"))
    nodes = {g.findtext(f"{SVG}title"): [t.text or "" for t in g.iter(f"{SVG}text")]
             for g in groups if g.get("class") == "node"}
    assert set(nodes) == {n.id for n in graph.nodes}
    for node in graph.nodes:
        # What Graphviz draws is the name and the detail, each on its own line, nothing else
        # (it draws runs of spaces as a space and no-break spaces).
        assert [spaces(t) for t in nodes[node.id]] == [spaces(node.name), node.detail]
    edges = {(g.findtext(f"{SVG}title"), tuple(t.text for t in g.iter(f"{SVG}text")))
             for g in groups if g.get("class") == "edge"}
    assert edges == {(f"{e.source}->{e.target}", (e.label,)) for e in graph.edges}


# -- the command -------------------------------------------------------------------------------


def run_gpc(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run_gpc(["graph", str(FRAUD)], capsys)
    assert code == 0 and out == to_mermaid(build_graph(load_ir(FRAUD)))
    code, out, _ = run_gpc(["graph", str(FRAUD), "--format", "dot"], capsys)
    assert code == 0 and out.startswith('digraph "fraud-detection" {')
    require_tool("dot")
    target = tmp_path / "g" / "fraud.svg"
    code, out, _ = run_gpc(["graph", str(FRAUD), "--format", "svg", "-o", str(target)], capsys)
    assert code == 0 and out == ""
    svg = ET.fromstring(target.read_text("utf-8"))
    assert svg.tag == f"{SVG}svg"
    assert "fraud-trainer" in {t.text for t in svg.iter(f"{SVG}text")}


def test_svg_without_graphviz_is_a_usage_error(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no `dot` anywhere
    done = subprocess.run([sys.executable, "-m", "compiler.cli", "graph", str(FRAUD), "--format", "svg"],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert done.returncode == 2
    assert "apt-get install graphviz" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_a_preview_is_drawn_with_its_images_infrastructure_and_hostnames(capsys: pytest.CaptureFixture[str],
                                                                         tmp_path: Path) -> None:
    from preview_fraud import fraud_with_previews

    from compiler.explain_preview import parse_pull

    spec = fraud_with_previews()
    platform = load_ir(spec)
    source, number = parse_pull("acme/checkout-service#7", platform.previews)
    graph = build_preview_graph(platform, source, number)
    assert graph.name == "fraud-detection preview pr-checkout-service-7 (acme/checkout-service#7)"
    details = {n.name: n.detail for n in graph.nodes}
    assert details["checkout"] == "service :8080 · pull request #7's image"
    assert details["fraud-inference"].endswith(" · dev's image") and details["fraud-trainer"].endswith(" · dev's image")
    assert details["checkout-events"].endswith("the preview's own RabbitMQ")
    assert details["fraud-models"].endswith("the preview's own MinIO")
    assert details["transactions"].endswith("the preview's own PostgreSQL")
    [host] = [n for n in graph.nodes if n.kind == "host"]
    assert host.name == "pr-checkout-service-7-checkout.dev.fraud.acme.example"
    whole = build_graph(platform)
    assert edges_by_name(graph) == edges_by_name(whole) | {(host.name, "checkout", "https", False)}
    [parsed] = mermaid_parse([to_mermaid(graph)])
    check_mermaid(graph, parsed)
    code, out, _ = run_gpc(["graph", str(spec), "--preview", "acme/checkout-service#7"], capsys)
    assert code == 0 and out == to_mermaid(graph)
    for args, message in ((["--preview", "acme/elsewhere#7"], "no workload is built from"),
                          (["--preview", "acme/checkout-service"], "is not OWNER/REPO#NUMBER"),
                          (["--preview", "acme/checkout-service#7", "--team", "payments"], "leave out --team")):
        code, out, err = run_gpc(["graph", str(spec), *args], capsys)
        assert code == 2 and out == "" and message in err, err
    without = tmp_path / "fraud.yaml"  # fraud without its previews block
    without.write_text(re.sub(r"(?ms)^previews:\n.*?\n\n", "", FRAUD.read_text("utf-8")), "utf-8")
    code, _, err = run_gpc(["graph", str(without), "--preview", "acme/checkout-service#7"], capsys)
    assert code == 2 and "has no `previews` block" in err


def test_a_broken_spec_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text(FRAUD.read_text("utf-8").replace("access: consume", "access: eat"), "utf-8")
    code, out, err = run_gpc(["graph", str(spec)], capsys)
    assert code == 1 and out == ""
    assert "GPC204" in err


RENDER_ALL = """
import sys
sys.path.insert(0, "tests")
from conftest import all_spec_files, load_ir
from compiler.graph import build_graph, to_dot, to_mermaid
from compiler.readme import render_readme
for spec in all_spec_files():
    platform = load_ir(spec)
    print(to_mermaid(build_graph(platform)), to_dot(build_graph(platform)), render_readme(platform).text)
"""


def test_output_is_deterministic_across_hash_seeds() -> None:
    outputs = {
        subprocess.run([sys.executable, "-c", RENDER_ALL], capture_output=True, text=True, cwd=ROOT, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("0", "4242")
    }
    assert len(outputs) == 1 and "flowchart LR" in next(iter(outputs))


# -- the README of the compiled tree -----------------------------------------------------------


def test_readme_shows_the_graph_and_every_folder() -> None:
    platform = load_ir(FRAUD)
    text = render_readme(platform).text
    assert "```mermaid\n" + to_mermaid(build_graph(platform)) + "```\n" in text
    for folder in ("kustomize/", "argocd/", "kyverno/", "terraform/", "github/", "kustomize/<workload>/overlays/<env>/",
                   "kustomize/<workload>/overlays/<env>/image/", "argocd/<env>/"):
        assert f"| `{folder}` |" in text
    for env in platform.environments:
        assert f"| `{env.name}` | {env.cluster} |" in text
        assert f"`{env.name}`" in text and f"`fraud-detection-{env.name}-root`" in text
    for w in platform.workloads:
        assert f"| `{w.name}` |" in text
    assert text.endswith("\n") and "\r" not in text


def test_readme_is_the_same_whatever_targets_were_compiled() -> None:
    # `gpc compile --target terraform` updates one folder of the tree; the README describes all.
    from compiler.pipeline import render

    platform = load_ir(FRAUD)
    one, _ = render(platform, ["terraform"])
    every, _ = render(platform, ["kustomize", "argocd", "kyverno", "terraform", "github"])
    assert [a.text for a in one if a.path == "README.md"] == [a.text for a in every if a.path == "README.md"]
