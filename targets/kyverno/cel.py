"""Building blocks of the CEL the policies carry.

Only what both celpy (the test engine) and the Kubernetes CEL environment Kyverno runs agree on:
no optionals, no string extensions, `has()` guarded at every level (cel-go errors on
`has(a.b.c)` when `b` is missing, and Kyverno denies on errors), quantities through `quantity()`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# Kyverno evaluates `variables` lazily and in order; later ones may use earlier ones. Rules
# match the workload kinds and Pods directly, so the pod template is found here instead of by
# Kyverno's autogen, which rewrites expressions by text substitution. A Pod is its own template
# (metadata and spec); so is the Pod an `ephemeralcontainers` request carries.
POD_TEMPLATE = "podTemplate"
POD_SPEC = "podSpec"
CONTAINERS = "containers"
ALL_CONTAINERS = "allContainers"
VARIABLES: dict[str, str] = {
    POD_TEMPLATE: ('object.kind == "Pod" ? object : (object.kind == "CronJob" ? '
                   'object.spec.jobTemplate.spec.template : object.spec.template)'),
    POD_SPEC: f"variables.{POD_TEMPLATE}.spec",
    # Containers and init containers: what resources are declared on. Ephemeral containers
    # (`kubectl debug`) cannot declare resources (the API server refuses them): they count only
    # for the image and security rules.
    CONTAINERS: (f"variables.{POD_SPEC}.containers + (has(variables.{POD_SPEC}.initContainers) ? "
                 f"variables.{POD_SPEC}.initContainers : [])"),
    ALL_CONTAINERS: (f"variables.{CONTAINERS} + (has(variables.{POD_SPEC}.ephemeralContainers) ? "
                     f"variables.{POD_SPEC}.ephemeralContainers : [])"),
}
POD = f"variables.{POD_SPEC}"


# Printable ASCII other than '"' and '\\': characters the loop below keeps as they are.
_PLAIN = re.compile(r"[\x20\x21\x23-\x5B\x5D-\x7E]*")


def string(value: str) -> str:
    """`value` as a double-quoted CEL string literal (YAML then needs no escapes for it). The
    double quote, the backslash and everything outside printable ASCII are escaped, so no spec
    value can end the literal or change the expression around it; so are doubled braces, which
    Kyverno would take for one of its `{{ variables }}` anywhere in a policy."""
    if _PLAIN.fullmatch(value) and "{{" not in value and "}}" not in value:
        return f'"{value}"'  # nothing to escape: most values are names (9k calls at N=1000)
    out = []
    for i, char in enumerate(value):
        code = ord(char)
        if char in "{}" and char in value[max(i - 1, 0):i] + value[i + 1:i + 2]:
            out.append(f"\\x{code:02x}")
        elif char in "\\\"":
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def strings(values: Iterable[str]) -> str:
    return "[" + ", ".join(string(v) for v in values) + "]"


def has(root: str, *fields: str) -> str:
    """`has()` on every level from `root` down: `has(c.a) && has(c.a.b)`."""
    tests = []
    path = root
    for field in fields:
        path = f"{path}.{field}"
        tests.append(f"has({path})")
    return " && ".join(tests)


def path(root: str, *fields: str) -> str:
    return ".".join((root, *fields))


def every_container(body: str, ephemeral: bool = True) -> str:
    """`body` (about container `c`) holds for every container, init container and (unless
    `ephemeral` is false) ephemeral container."""
    return f"variables.{ALL_CONTAINERS if ephemeral else CONTAINERS}.all(c, {body})"


def container_or_pod(*fields: str, test: Callable[[str], str]) -> str:
    """`test(path)` on the container's securityContext field when the container sets it, else on
    the pod's (the container value overrides the pod value, as the kubelet does). When neither
    level sets the field, the check fails."""
    on_container = path("c", "securityContext", *fields)
    on_pod = path(POD, "securityContext", *fields)
    return (f"({has('c', 'securityContext', *fields)}) ? {test(on_container)} : "
            f"({has(POD, 'securityContext', *fields)} && {test(on_pod)})")


def not_set_or(section: str, key: str, test: Callable[[str], str]) -> str:
    """True when `c.resources.<section>[key]` is absent, else `test(value)`."""
    return f"{absent(section, key)} || {test(f'c.resources.{section}[{string(key)}]')}"


def absent(section: str, key: str) -> str:
    return f"!({has('c', 'resources', section)} && {string(key)} in c.resources.{section})"
