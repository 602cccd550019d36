"""The `gpc` command line. Exit codes: 0 ok, 1 the spec is wrong, 2 usage error, 3 a bug in gpc."""

from __future__ import annotations

import gc
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from compiler import __version__
from compiler.diagnostics import FORMATTERS, Diagnostic

if TYPE_CHECKING:
    from compiler.pipeline import Checked

EXIT_OK, EXIT_SPEC, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3

_format_option = click.option("--format", "fmt", type=click.Choice(sorted(FORMATTERS)), default=None,
                              help="How to print diagnostics. Default: github inside GitHub Actions, else text.")
_spec_path = click.Path(exists=True, dir_okay=False, path_type=Path)


if TYPE_CHECKING:
    _StrParam = click.ParamType[str, str]
else:  # click < 8.2: ParamType is not generic
    _StrParam = click.ParamType


class _TargetName(_StrParam):
    """A name in targets.TARGETS. Read when --target is used or help is shown, not at import:
    `gpc validate` must not import the targets package."""

    name = "target"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        from targets import TARGETS

        return f"[{'|'.join(TARGETS)}]"

    def convert(self, value: str, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from targets import TARGETS

        if value not in TARGETS:
            self.fail(f"{value!r} is not one of {', '.join(map(repr, TARGETS))}.", param, ctx)
        return value


def _fmt(fmt: str | None) -> str:
    return fmt or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")


def _report(diagnostics: list[Diagnostic], fmt: str) -> None:
    if diagnostics or fmt == "json":
        click.echo(FORMATTERS[fmt](diagnostics), nl=False, err=fmt == "text")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="gpc")
def cli() -> None:
    """gpc, the golden path compiler.

    Reads a platform spec (platform.yaml), proves it right, and compiles it into a GitOps
    repository: Terraform, Kustomize, Kyverno, Argo CD and GitHub Actions.

    \b
    Exit codes: 0 ok, 1 the spec has errors (or --check found drift), 2 usage error,
    3 a bug in gpc.
    """


@cli.command()
@click.argument("specs", nargs=-1, required=True, type=_spec_path)
@_format_option
def validate(specs: Sequence[Path], fmt: str | None) -> None:
    """Check SPECS: YAML, the spec model and the semantic rules. Writes nothing."""
    from compiler.pipeline import check, specs_to_check

    fmt = _fmt(fmt)
    roots, problems = specs_to_check(specs)
    ok = not problems
    for spec in roots:
        result = check(spec, lower_spec=False)
        problems += result.diagnostics
        ok = ok and result.ok
    _report(problems, fmt)
    if ok and fmt == "text":
        click.echo(f"ok: {len(specs)} spec{'s' if len(specs) != 1 else ''} valid", err=True)
    sys.exit(EXIT_OK if ok else EXIT_SPEC)


_out_option = click.option(
    "-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Folder that holds one compiled tree per spec: OUT/<spec name>/, where <spec name> is the spec "
         "file's stem (specs/fraud.yaml -> OUT/fraud/). Default: the parent of the spec's gitops.path "
         "(out/), in the git repository gpc runs in. Inside a git repository the tree must land at "
         "gitops.path (GPC401).")


@cli.command(name="compile")
@click.argument("spec", type=_spec_path)
@_out_option
@click.option("-t", "--target", "targets", multiple=True, type=_TargetName(),
              help="Compile only these targets (repeatable). Default: all.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the tree is stale, with a unified diff "
              "(text), the drift as JSON (json) or an annotation on each stale file and the diff (github).")
@_format_option
def compile_(spec: Path, out_dir: Path | None, targets: Sequence[str], check: bool, fmt: str | None) -> None:
    """Compile SPEC into OUT/<spec name>/ (the spec file's stem).

    With --format json, standard output is one JSON document: {diagnostics, tree, check, stale,
    changes: [{file, change: create|update|delete, diff (with --check)}], conflicts}.
    """
    from compiler import drift, writer
    from compiler.pipeline import compile_spec

    fmt = _fmt(fmt)
    compiled = compile_spec(spec, out_dir, targets, reuse=True, lean=True, stage=not check)
    plan = compiled.plan
    label = os.path.relpath(plan.tree).replace(os.sep, "/") if plan is not None else None
    if plan is not None and not plan.conflicts and not check:
        writer.apply(plan)
    if fmt == "json":
        click.echo(drift.to_json(compiled.diagnostics, plan, label, check=check), nl=False)
    else:
        _report(compiled.diagnostics, fmt)
    if plan is None or label is None:
        sys.exit(EXIT_SPEC)
    if plan.conflicts:
        for path in plan.conflicts:
            click.echo(f"{label}/{path}: refusing to overwrite a file gpc did not generate", err=True)
        sys.exit(EXIT_SPEC)
    if check:
        if plan.changed:
            if fmt == "github":
                click.echo(drift.to_github(plan, label, compiled.file), nl=False)
            if fmt != "json":
                click.echo(plan.diff(label), nl=False)
            click.echo(f"{label} is stale: {len(plan.create)} to create, {len(plan.update)} to update, "
                       f"{len(plan.delete)} to delete. Run: gpc compile {compiled.file}", err=True)
            sys.exit(EXIT_SPEC)
        click.echo(f"ok: {label} is up to date", err=True)
        sys.exit(EXIT_OK)
    updated = len(plan.update) + plan.refresh  # the manifest's record of the inputs was rewritten
    click.echo(f"wrote {label}: {len(plan.create)} created, {updated} updated, "
               f"{len(plan.delete)} deleted, {plan.size + plan.fresh - len(plan.create) - updated} unchanged",
               err=True)


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the schema to this file instead of standard output.")
@click.option("--fragment", is_flag=True, help="The schema of a team file (one a root spec's `include` names).")
def schema(output: Path | None, fragment: bool) -> None:
    """Print the JSON Schema of platform.yaml (for editors and check-jsonschema)."""
    from compiler.schema import fragment_schema_text, schema_text

    text = fragment_schema_text() if fragment else schema_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


@cli.command()
@click.argument("args", nargs=-1, metavar="SPEC [WORKLOAD]")
@click.option("--all", "every", is_flag=True,
              help="Every workload of SPEC, one block each: a set whose ports and URLs agree.")
@click.option("-e", "--env", "env_name", default=None, help="Environment whose overrides apply. Default: the first.")
@click.option("--format", "fmt", type=click.Choice(["dotenv", "json"]), default="dotenv", show_default=True)
@click.option("-f", "--spec", "old_spec", type=_spec_path, default=None,
              help="Deprecated: give SPEC first, as for compile, explain and graph.")
def env(args: Sequence[str], every: bool, env_name: str | None, fmt: str, old_spec: Path | None) -> None:
    """Print WORKLOAD's wiring contract for a local run: every variable, and which come from secrets.

    \b
      gpc env specs/fraud.yaml checkout          one workload
      gpc env specs/fraud.yaml --all             every workload, with ports that agree

    Values point at a local broker (127.0.0.1:5672) and object store (127.0.0.1:9000); secret
    values are placeholders to fill in. In the cluster the same names are set by the manifests.

    On one machine all services share 127.0.0.1, so each gets a distinct local port: the one it
    declares, unless the broker, the object store or another service (the first by name) has it;
    then the next free one above. PORT and every <ALIAS>_URL use these ports, so the workloads of
    one spec reach each other and never themselves.
    """
    from compiler.localenv import render

    spec, workload = _env_arguments(args, every, old_spec)
    result, env_name = _workload_in_env(spec, workload, env_name)
    assert result.platform is not None
    click.echo(render(result.platform, result.file, None if every else workload, env_name, fmt), nl=False)


def _env_arguments(args: Sequence[str], every: bool, old_spec: Path | None) -> tuple[Path, str | None]:
    """SPEC [WORKLOAD], or the deprecated forms `-f SPEC WORKLOAD` and `WORKLOAD` (spec platform.yaml)."""
    old_form = old_spec is not None or (len(args) == 1 and not every and not _looks_like_spec(args[0]))
    if old_form:
        spec = old_spec or Path("platform.yaml")
        rest = list(args)
        if len(rest) > 1:
            raise click.UsageError("with -f/--spec, give only WORKLOAD (better: gpc env SPEC WORKLOAD)")
        shown = " ".join([str(spec), *rest] + (["--all"] if every else []))
        click.echo(f"gpc env: {'-f/--spec' if old_spec else 'a spec-less `gpc env WORKLOAD`'} is deprecated; "
                   f"give the spec first, as for compile: gpc env {shown}", err=True)
    else:
        if not args:
            raise click.UsageError("missing SPEC: gpc env SPEC WORKLOAD, or gpc env SPEC --all")
        if len(args) > 2:
            raise click.UsageError(f"too many arguments: {' '.join(args[2:])}")
        spec, rest = Path(args[0]), list(args[1:])
    if every and rest:
        raise click.UsageError("give WORKLOAD or --all, not both")
    if not every and not rest:
        raise click.UsageError(f"missing WORKLOAD: gpc env {spec} WORKLOAD, or gpc env {spec} --all")
    if not spec.is_file():
        raise click.BadParameter(f"file '{spec}' does not exist.", param_hint="'SPEC'")
    return spec, rest[0] if rest else None


def _looks_like_spec(arg: str) -> bool:
    return arg.endswith((".yaml", ".yml")) or Path(arg).is_file()


def _workload_in_env(spec: Path, workload: str | None, env_name: str | None) -> tuple[Checked, str]:
    """The checked spec and the environment for a command about one workload (exit 1 when the
    spec is wrong, a usage error when the workload or environment does not exist)."""
    from compiler.pipeline import check

    result = check(spec)
    if not result.ok or result.platform is None:
        _report(result.diagnostics, "text")
        sys.exit(EXIT_SPEC)
    workloads = [w.name for w in result.platform.workloads]
    if workload is not None and workload not in workloads:
        raise click.BadParameter(f"no workload '{workload}' in {result.file} (known: {', '.join(workloads)})",
                                 param_hint="WORKLOAD")
    envs = [e.name for e in result.platform.environments]
    if env_name is not None and env_name not in envs:
        raise click.BadParameter(f"no environment '{env_name}' in {result.file} (known: {', '.join(envs)})",
                                 param_hint="--env")
    if workload is not None:
        on = [e.name for e in result.platform.environments_of(result.platform.workload(workload))]
        if env_name is not None and env_name not in on:
            raise click.BadParameter(f"workload '{workload}' is switched off in environment '{env_name}' (enabled: "
                                     f"false); it runs in: {', '.join(on)}", param_hint="--env")
        return result, env_name or on[0]
    return result, env_name or envs[0]


@cli.command()
@click.argument("spec", type=_spec_path)
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "svg"]), default="mermaid", show_default=True,
              help="mermaid renders in GitHub markdown; dot is Graphviz; svg needs Graphviz's `dot` installed.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@click.option("--team", default=None, help="Draw one team's workloads, what they use and who uses them.")
@click.option("--preview", "pull_request", default=None, metavar="OWNER/REPO#NUMBER",
              help="Draw the preview of that pull request (spec `previews`): which image each workload runs, "
                   "its own broker and object store, its hostnames.")
def graph(spec: Path, fmt: str, output: Path | None, team: str | None, pull_request: str | None) -> None:
    """Draw SPEC as a diagram: workloads, queues, buckets, volumes.

    Edges are labelled with the access each workload was granted.

    \b
    Edges point the way data flows: publish (workload -> queue), consume (queue -> workload),
    read (bucket -> workload), write (workload -> bucket), readwrite and writable mounts
    (both ways), calls (caller -> service).
    """
    from compiler.graph import GraphvizMissing, render
    from compiler.pipeline import check

    result = check(spec)
    if not result.ok or result.platform is None:
        _report(result.diagnostics, "text")
        sys.exit(EXIT_SPEC)
    if pull_request is not None and team is not None:
        raise click.BadParameter("draws the whole preview; leave out --team", param_hint="--preview")
    teams = sorted({w.team for w in result.platform.workloads if w.team is not None})
    if team is not None and team not in teams:
        raise click.BadParameter(f"no workload of team '{team}' in {result.file} (teams: {', '.join(teams) or 'none'})",
                                 param_hint="--team")
    preview = None
    if pull_request is not None:
        from compiler.explain_preview import PreviewRequestError, parse_pull

        if result.platform.previews is None:
            raise click.BadParameter(f"{result.file} has no `previews` block", param_hint="--preview")
        try:
            preview = parse_pull(pull_request, result.platform.previews)
        except PreviewRequestError as err:
            raise click.BadParameter(str(err), param_hint="--preview") from None
    try:
        text = render(result.platform, fmt, team, preview)
    except GraphvizMissing as err:
        click.echo(f"gpc graph: {err}", err=True)
        sys.exit(EXIT_USAGE)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


@cli.command()
@click.argument("spec", type=_spec_path)
@click.argument("workload")
@click.option("-e", "--env", "env_name", default=None, help="Environment whose overrides apply. Default: the first.")
@_out_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain(spec: Path, workload: str, env_name: str | None, out_dir: Path | None, fmt: str) -> None:
    """Every effective value of WORKLOAD and who set it.

    Shows WORKLOAD as deployed in one environment, with the layer that set each value.

    \b
    Layers: gpc default, guardrail default, workload, environment override, environment,
    wiring contract (variables from `uses`, the port and declared secrets), derived (names gpc
    computes), CI (the image tag in the compiled tree, which the workload's CI owns once the
    tree exists). Values point at their file:line:col.
    """
    from compiler.explain import explain as explain_workload
    from compiler.explain import to_json, to_text
    from compiler.location import locate

    result, env_name = _workload_in_env(spec, workload, env_name)
    assert result.platform is not None and result.source is not None
    tree, _ = locate(result.platform, out_dir)
    explanation = explain_workload(result.platform, result.source, workload, env_name, tree)
    click.echo(to_json(explanation) if fmt == "json" else to_text(explanation), nl=False)


@cli.command("preview")
@click.argument("spec", type=_spec_path)
@click.argument("pull_request", metavar="OWNER/REPO#NUMBER")
@click.option("--sha", default="<head sha>", show_default=True, help="The pull request's head commit.")
@_out_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def preview(spec: Path, pull_request: str, sha: str, out_dir: Path | None, fmt: str) -> None:
    """What the preview of one pull request would contain (spec `previews`).

    Its namespace and Argo CD Application, hostnames, every workload with its image (the pull
    request's for the repository's own workloads, the `from` environment's for the others) and
    variables, its own broker, object store and credentials, its quota, and when it ends.
    """
    from compiler.explain_preview import PreviewRequestError, describe, parse_pull, to_json, to_text
    from compiler.location import locate

    result, _ = _workload_in_env(spec, None, None)
    assert result.platform is not None
    if result.platform.previews is None:
        raise click.BadParameter(f"{result.file} has no `previews` block", param_hint="SPEC")
    try:
        source, number = parse_pull(pull_request, result.platform.previews)
    except PreviewRequestError as err:
        raise click.BadParameter(str(err), param_hint="OWNER/REPO#NUMBER") from None
    tree, _ = locate(result.platform, out_dir)
    described = describe(result.platform, source, number, sha, tree)
    click.echo(to_json(described) if fmt == "json" else to_text(described), nl=False)


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default=Path("platform.yaml"))
@click.option("--name", default=None, help="The platform's name. Default: the file's stem (shop.yaml -> shop), "
              "or my-platform for platform.yaml.")
@click.option("--schema", "schema_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("schema/platform.schema.json"), show_default=True,
              help="Where the JSON Schema goes (written if missing); the spec's modeline points at it.")
def init(path: Path, name: str | None, schema_path: Path) -> None:
    """Write a commented starter spec to PATH (default: platform.yaml) for you to edit.

    It validates and compiles as written: one environment and one service, with the next things
    people add (a second environment, a queue, a bucket, a job) as comments. Never overwrites a
    file: PATH must not exist.
    """
    from compiler.starter import NAME, write_starter

    if name is not None and not NAME.match(name):
        raise click.BadParameter(f"'{name}' is not a platform name: lowercase letters, digits and '-', "
                                 "starting with a letter, at most 30 characters", param_hint="'--name'")
    try:
        wrote = write_starter(path, name, schema_path)
    except FileExistsError:
        click.echo(f"gpc init: {path.as_posix()} already exists; not overwriting it (give another PATH, or move "
                   "it away)", err=True)
        sys.exit(EXIT_SPEC)
    click.echo(f"wrote {' and '.join(wrote)}. Edit {wrote[0]}, then: gpc validate {wrote[0]} && "
               f"gpc compile {wrote[0]}", err=True)


def main(argv: Sequence[str] | None = None) -> int:
    # gpc's data are trees (YAML nodes, models, the IR, artifacts): the cyclic collector frees
    # nothing and rescans them ever more often as they grow (bench/results/profile-n1000.md).
    collecting = gc.isenabled()
    gc.disable()
    # pydantic looks for plugins when it builds the first model's validator: it reads the entry
    # points of every installed distribution (20-30 ms in the dev venv's 93; fewer beside a plain
    # `pip install gpc`). gpc's models are its own and no plugin is meant to observe them.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def run() -> None:
    """The `gpc` command (pyproject.toml): main(), then the process ends."""
    code = main()
    # Everything gpc built is garbage now, and the interpreter's exit would still run its
    # collector over all of it (~30 ms of a 0.3 s `gpc validate`, issue 19). Frozen objects are
    # left to the exit itself; atexit handlers (the writer's stage cleanup) still run, and gpc
    # keeps no finalizer that only the collector would call. main() itself leaves the collector
    # alone: tests and tests/goldens.py call it many times in one process.
    gc.freeze()
    sys.exit(code)


def _main(argv: Sequence[str] | None) -> int:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="gpc", standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as err:
        err.show()
        return EXIT_USAGE if isinstance(err, click.UsageError) else EXIT_SPEC if err.exit_code == 1 else EXIT_USAGE
    except SystemExit as done:
        return int(done.code or 0) if not isinstance(done.code, str) else EXIT_SPEC
    except KeyboardInterrupt:
        return 130
    except Exception:  # a bug in gpc, never a user mistake
        click.echo("gpc: an unexpected error occurred; this is a bug in gpc. Please report it with the "
                   "spec that caused it.", err=True)
        if os.environ.get("GPC_DEBUG"):
            traceback.print_exc()
        else:
            exc = sys.exc_info()[1]
            click.echo(f"  {type(exc).__name__}: {exc} (set GPC_DEBUG=1 for the traceback)", err=True)
        return EXIT_BUG
    return EXIT_OK


if __name__ == "__main__":
    run()
