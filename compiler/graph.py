"""The platform as a graph: workloads, queues, buckets and volumes, and how data flows between them.

`gpc graph` prints it as Mermaid (renders in GitHub markdown; the compiled tree's README embeds
it), as Graphviz DOT, or as SVG through Graphviz's `dot`. Node ids are derived from names but
restricted to `[A-Za-z0-9_]` and prefixed by kind, and every label is escaped for its format, so
no name can change the structure of the diagram.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Literal

from compiler.ir import Platform, Use, Workload
from compiler.ir_preview import PreviewSource

Kind = Literal["service", "worker", "job", "cronjob", "queue", "bucket", "volume", "database", "host"]
WORKLOAD_KINDS: tuple[Kind, ...] = ("service", "worker", "job", "cronjob")


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    kind: Kind
    detail: str  # a second, smaller line: what it is


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str  # the access: publish, consume, read, write, readwrite, mount, mount (read-only), calls
    both_ways: bool = False  # data flows in both directions (readwrite, a writable mount)


@dataclass(frozen=True)
class Graph:
    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


_PREFIX: dict[Kind, str] = {"service": "svc", "worker": "worker", "job": "job", "cronjob": "job", "queue": "queue", "bucket": "bucket",
                            "volume": "volume", "database": "db", "host": "host"}


def build_graph(platform: Platform, team: str | None = None) -> Graph:
    ids: dict[tuple[str, str], str] = {}
    nodes: list[Node] = []
    taken: set[str] = set()  # the ids in `nodes` (a set per node made the README quadratic)

    def add(kind: Kind, ref_kind: str, name: str, detail: str) -> None:
        base = f"{_PREFIX[kind]}_{re.sub(r'[^A-Za-z0-9]', '_', name)}"
        node_id, n = base, 1
        while node_id in taken:  # only hostile IRs collide: names are DNS labels
            n += 1
            node_id = f"{base}_{n}"
        ids[(ref_kind, name)] = node_id
        taken.add(node_id)
        nodes.append(Node(node_id, name, kind, detail))

    for w in platform.workloads:
        add(_workload_kind(w), "workload", w.name, _workload_detail(w))
    for q in platform.queues:
        add("queue", "queue", q.name, "queue" + (" + dead letters" if q.dead_letter_queue else ""))
    for b in platform.buckets:
        add("bucket", "bucket", b.name, "bucket" + (", versioned" if b.versioning else ""))
    for v in platform.volumes:
        add("volume", "volume", v.name, f"volume, {v.size} {v.access_mode}")
    for d in platform.databases:
        add("database", "database", d.name, f"postgres {d.version}")

    edges: list[Edge] = []
    for w in platform.workloads:
        me = ids[("workload", w.name)]
        for use in w.uses:
            other = ids.get(("workload" if use.kind == "service" else use.kind, use.target))
            if other is not None:
                edges.append(_edge(me, other, use))
    if team is None:
        return Graph(platform.name, tuple(nodes), tuple(edges))
    # One team's part: its workloads, what they use, who uses them, and only those edges.
    mine = {ids[("workload", w.name)] for w in platform.workloads if w.team == team}
    edges = [e for e in edges if e.source in mine or e.target in mine]
    keep = mine | {e.source for e in edges} | {e.target for e in edges}
    return Graph(f"{platform.name} (team {team})", tuple(n for n in nodes if n.id in keep), tuple(edges))


def build_preview_graph(platform: Platform, source: PreviewSource, number: int) -> Graph:
    """The preview of pull request `number` of `source` (spec `previews`): the whole platform of the
    `from` environment in one namespace, each workload marked with the image it runs (the pull
    request's for the repository's own, `from`'s for the others), the queues and buckets on the
    preview's own broker and object store, volumes as emptyDirs, and the public hostnames."""
    preview = platform.previews
    assert preview is not None, "only for a platform with previews"
    base = build_graph(platform)
    namespace = source.namespace(number)
    own = set(source.workloads)
    where = {"queue": "the preview's own RabbitMQ", "bucket": "the preview's own MinIO",
             "volume": "an emptyDir in the preview", "database": "the preview's own PostgreSQL"}
    nodes = []
    for node in base.nodes:
        if node.kind in WORKLOAD_KINDS:
            image = f"pull request #{number}'s image" if node.name in own else f"{preview.from_env}'s image"
            nodes.append(Node(node.id, node.name, node.kind, f"{node.detail} · {image}"))
        else:
            nodes.append(Node(node.id, node.name, node.kind, f"{node.detail} · {where[node.kind]}"))
    edges = list(base.edges)
    by_name = {n.name: n.id for n in base.nodes if n.kind in WORKLOAD_KINDS}
    for workload, host in sorted(preview.hosts(namespace).items()):
        host_id = f"host_{re.sub(r'[^A-Za-z0-9]', '_', workload)}"
        nodes.append(Node(host_id, host, "host", "public hostname of the preview"))
        edges.append(Edge(host_id, by_name[workload], "https"))
    return Graph(f"{platform.name} preview {namespace} ({source.full_name}#{number})", tuple(nodes), tuple(edges))


def _workload_kind(w: Workload) -> Kind:
    if w.type in ("service", "worker"):
        return w.type
    return "cronjob" if any(p.schedule is not None for p in w.placements) else "job"


def _workload_detail(w: Workload) -> str:
    detail = _type_detail(w)
    return f"{detail} · team {w.team}" if w.team is not None else detail


def _type_detail(w: Workload) -> str:
    if w.type == "service":
        return f"service :{w.port}"
    if w.type == "worker":
        return "worker"
    schedules = {p.env: str(p.schedule.value) for p in w.placements if p.schedule is not None}
    if not schedules:
        return "job"
    if len(set(schedules.values())) == 1 and len(schedules) == len(w.placements):
        return f"cron {next(iter(schedules.values()))}"
    return "cron " + ", ".join(f"{env}: {schedule}" for env, schedule in schedules.items())


def _edge(workload: str, other: str, use: Use) -> Edge:
    """Edges point the way data flows."""
    if use.kind == "queue":
        return Edge(workload, other, "publish") if use.access == "publish" else Edge(other, workload, "consume")
    if use.kind == "bucket":
        if use.access == "read":
            return Edge(other, workload, "read")
        return Edge(workload, other, str(use.access), both_ways=use.access == "readwrite")
    if use.kind == "volume":
        return Edge(other, workload, "mount (read-only)") if use.read_only else Edge(workload, other, "mount", True)
    if use.kind == "database":
        return Edge(other, workload, "read") if use.access == "read" else Edge(workload, other, str(use.access), True)
    return Edge(workload, other, "calls")


# -- Mermaid ---------------------------------------------------------------------------------

_MERMAID_SHAPES: dict[Kind, tuple[str, str]] = {
    "service": ("([", "])"), "worker": ("[", "]"), "job": ("[[", "]]"), "cronjob": ("{{", "}}"),
    "queue": (">", "]"), "bucket": ("[(", ")]"), "volume": ("[/", "\\]"), "database": ("[(", ")]"),
    "host": ("[/", "/]"),
}
_MERMAID_STYLE: dict[Kind, str] = {
    "service": "fill:#e3f2fd,stroke:#1565c0,color:#0d47a1",
    "worker": "fill:#e0f7fa,stroke:#00838f,color:#006064",
    "job": "fill:#f3e5f5,stroke:#6a1b9a,color:#4a148c",
    "cronjob": "fill:#f3e5f5,stroke:#6a1b9a,color:#4a148c",
    "queue": "fill:#fff3e0,stroke:#e65100,color:#bf360c",
    "bucket": "fill:#e8f5e9,stroke:#2e7d32,color:#1b5e20",
    "volume": "fill:#eceff1,stroke:#455a64,color:#263238",
    "database": "fill:#e3f2fd,stroke:#1565c0,color:#0d47a1",
    "host": "fill:#fffde7,stroke:#f9a825,color:#f57f17",
}

# Named HTML entities, not Mermaid's own `#34;` codes: Mermaid 12 renders those codes as text
# (seen in a browser), and before parsing it rewrites `#...;` and drops a `;` from lines that
# match `style.*:\S*#.*;`. A label never contains `#` this way. Labels are HTML, so the
# browser decodes the named entities when it draws them.
_MERMAID_ENTITIES = {
    '"': "&quot;", "#": "&num;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "`": "&grave;", "|": "&vert;",
    "[": "&lsqb;", "]": "&rsqb;", "{": "&lcub;", "}": "&rcub;", "%": "&percnt;", "\\": "&bsol;",
}


def mermaid_text(text: str) -> str:
    """A label for inside Mermaid's double quotes: nothing in it can end the label, open markup
    or a Mermaid entity; line breaks and other control characters become spaces."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    return "".join(_MERMAID_ENTITIES.get(c, c) for c in text)


def to_mermaid(graph: Graph) -> str:
    lines = ["flowchart LR"]
    for node in graph.nodes:
        left, right = _MERMAID_SHAPES[node.kind]
        label = f"{mermaid_text(node.name)}<br/><small>{mermaid_text(node.detail)}</small>"
        lines.append(f'  {node.id}{left}"{label}"{right}:::{node.kind}')
    for edge in graph.edges:
        arrow = "<-->" if edge.both_ways else "-->"
        lines.append(f'  {edge.source} {arrow}|"{mermaid_text(edge.label)}"| {edge.target}')
    for kind in sorted({node.kind for node in graph.nodes}):
        lines.append(f"  classDef {kind} {_MERMAID_STYLE[kind]}")
    return "\n".join(lines) + "\n"


# -- Graphviz DOT ----------------------------------------------------------------------------

_DOT_SHAPES: dict[Kind, str] = {
    "service": 'shape=box, style="rounded,filled", fillcolor="#e3f2fd", color="#1565c0"',
    "worker": 'shape=box, style=filled, fillcolor="#e0f7fa", color="#00838f"',
    "job": 'shape=box, style=filled, fillcolor="#f3e5f5", color="#6a1b9a"',
    "cronjob": 'shape=hexagon, style=filled, fillcolor="#f3e5f5", color="#6a1b9a"',
    "queue": 'shape=cds, style=filled, fillcolor="#fff3e0", color="#e65100"',
    "bucket": 'shape=cylinder, style=filled, fillcolor="#e8f5e9", color="#2e7d32"',
    "volume": 'shape=folder, style=filled, fillcolor="#eceff1", color="#455a64"',
    "database": 'shape=cylinder, style=filled, fillcolor="#e3f2fd", color="#1565c0"',
    "host": 'shape=parallelogram, style=filled, fillcolor="#fffde7", color="#f9a825"',
}


def dot_string(text: str) -> str:
    r"""A DOT double-quoted string. Backslashes are doubled so that a name can never become a
    Graphviz escape (`\N`, `\G`, `\l`); `&` is written `&amp;` because Graphviz decodes entities
    in labels; control characters become spaces."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text).replace("&", "&amp;")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: Graph) -> str:
    lines = [
        f"digraph {dot_string(graph.name)} {{",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for node in graph.nodes:
        # The line break is ours (a real "\n" escape); the name and detail are escaped.
        label = dot_string(node.name)[:-1] + "\\n" + dot_string(node.detail)[1:]
        lines.append(f"  {node.id} [label={label}, {_DOT_SHAPES[node.kind]}];")
    for edge in graph.edges:
        extra = ", dir=both" if edge.both_ways else ""
        lines.append(f"  {edge.source} -> {edge.target} [label={dot_string(edge.label)}{extra}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


class GraphvizMissing(RuntimeError):
    pass


def to_svg(dot: str) -> str:
    """Render DOT with Graphviz's `dot` (Debian: `apt-get install graphviz`)."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissing("--format svg needs Graphviz's `dot` on PATH (Debian/Ubuntu: apt-get install graphviz)")
    done = subprocess.run([exe, "-Tsvg"], input=dot, capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.strip()}")
    return done.stdout


FORMATS = ("mermaid", "dot", "svg")


def render(platform: Platform, fmt: str, team: str | None = None,
           preview: tuple[PreviewSource, int] | None = None) -> str:
    graph = build_graph(platform, team) if preview is None else build_preview_graph(platform, *preview)
    if fmt == "mermaid":
        return to_mermaid(graph)
    if fmt == "dot":
        return to_dot(graph)
    return to_svg(to_dot(graph))
