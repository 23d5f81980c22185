"""The Typer application.  Each command parses its options, makes one library call and
renders the record it gets back; :func:`main` is the one error funnel.

No ``from __future__ import annotations`` here on purpose: Typer reads every command's
annotations at start-up, and string annotations would cost it hundreds of ``eval`` calls
(about 20 ms of each command).
"""

import functools
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer

from modelreg.cli import render
from modelreg.cli.merge_command import merge_index as merge_index_command
from modelreg.errors import RegistryError
from modelreg.gitrepo import redact
from modelreg.registry import Registry

app = typer.Typer(
    name="modelreg",
    help="A Git-backed model registry: versions and stages are Git tags, bytes live in DVC.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
index_app = typer.Typer(help="Maintain registry.yaml.", no_args_is_help=True)
app.add_typer(index_app, name="index")

F = TypeVar("F", bound=Callable[..., Any])

RepoOpt = Annotated[
    str, typer.Option("--repo", help="Path of the Git repository, or its URL for reads.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
PushOpt = Annotated[
    bool, typer.Option("--push", help="Publish to the Git and DVC remotes (retries on races).")
]
RemoteOpt = Annotated[str, typer.Option("--remote", help="Git remote to push to.")]
MessageOpt = Annotated[
    str | None, typer.Option("--message", "-m", help="Note recorded in the tag and commit.")
]


class Interrupted(BaseException):
    """Ctrl-C, raised past libraries that swallow KeyboardInterrupt into other errors."""


def _fail(message: str) -> None:
    # Messages quote names, refs and file contents from repositories the user may not trust:
    # escaped, no control sequence reaches the terminal and the message stays one line.
    typer.echo(f"modelreg: error: {render.safe(redact(message))}", err=True)


def reports_errors(func: F) -> F:
    """Turn a :class:`RegistryError` into a one-line message on stderr and exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RegistryError as e:
            _fail(str(e))
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _version_callback(value: bool) -> None:
    if value:
        from modelreg import __version__

        typer.echo(f"modelreg {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """A Git-backed model registry: versions and stages are Git tags, bytes live in DVC."""


def _registry(repo: str) -> Registry:
    return Registry(repo)


# -- reads ---------------------------------------------------------------------------------


@app.command()
@reports_errors
def which(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    stage: Annotated[str, typer.Argument(metavar="STAGE", help="Stage, e.g. production.")],
    repo: RepoOpt = ".",
    json: JsonOpt = False,
) -> None:
    """Print the version that holds STAGE (exit 1 when none does)."""
    reg = _registry(repo)
    typer.echo(render.to_json(reg.which(name, stage)) if json else reg.which_version(name, stage))


@app.command()
@reports_errors
def latest(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    repo: RepoOpt = ".",
    json: JsonOpt = False,
) -> None:
    """Print the latest (greatest active) version of NAME."""
    reg = _registry(repo)
    typer.echo(render.to_json(reg.latest(name)) if json else reg.latest_version(name))


@app.command("list")
@reports_errors
def list_(repo: RepoOpt = ".", json: JsonOpt = False) -> None:
    """One row per model: latest version, each stage's version, headline metrics."""
    from modelreg.index_header import DEFAULT_STAGES, read_stage_order

    reg = _registry(repo)
    rows = reg.list_models()
    if json:
        typer.echo(render.to_json(rows))
        return
    order = DEFAULT_STAGES if reg.is_remote else read_stage_order(reg.root)
    used = sorted({s for r in rows for s in r.stages} - set(order))
    typer.echo(render.model_list(rows, [*order, *used]))


@app.command()
@reports_errors
def show(
    ref: Annotated[
        str,
        typer.Argument(metavar="REF", help="NAME for all versions, or NAME@vX.Y.Z / NAME#STAGE."),
    ],
    repo: RepoOpt = ".",
    json: JsonOpt = False,
) -> None:
    """Show a model's versions with metrics and stages, or one version's full record."""
    from modelreg.grammar import parse_reference

    reg = _registry(repo)
    parsed = parse_reference(ref)
    if parsed.version or parsed.stage or parsed.latest:
        mv = reg.resolve(parsed)
        typer.echo(render.to_json(mv) if json else render.version_detail(mv))
    else:
        detail = reg.show(parsed.model)
        typer.echo(render.to_json(detail) if json else render.model_detail(detail))


@app.command()
@reports_errors
def history(
    name: Annotated[
        str | None, typer.Argument(metavar="NAME", help="Model name (all models when omitted).")
    ] = None,
    repo: RepoOpt = ".",
    json: JsonOpt = False,
) -> None:
    """The audit log: every event with time, author, version, stage and message."""
    events = _registry(repo).history(name)
    typer.echo(render.to_json(events) if json else render.events(events))


@app.command()
@reports_errors
def compare(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    v1: Annotated[str, typer.Argument(metavar="V1", help="First version.")],
    v2: Annotated[str, typer.Argument(metavar="V2", help="Second version.")],
    repo: RepoOpt = ".",
    json: JsonOpt = False,
) -> None:
    """Metrics and params side by side with deltas; whether the artifact bytes changed."""
    result = _registry(repo).compare(name, v1, v2)
    typer.echo(render.to_json(result) if json else render.comparison(result))


@app.command()
@reports_errors
def get(
    ref: Annotated[
        str, typer.Argument(metavar="REF", help="NAME#STAGE, NAME@vX.Y.Z, NAME@latest or NAME.")
    ],
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            help="Destination file or folder (an existing folder receives the artifact inside "
            "it; default: the artifact's name here).",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace an existing artifact of the same kind at -o."),
    ] = False,
    dvc_remote: Annotated[
        str | None,
        typer.Option(
            "--dvc-remote",
            help="Read the bytes from this DVC remote (URL or folder), not the registry's "
            "(default: $MODELREG_DVC_REMOTE).",
        ),
    ] = None,
    repo: RepoOpt = ".",
) -> None:
    """Download a version's artifact, verify its md5, write it atomically."""
    meter = render.ProgressMeter(sys.stderr) if sys.stderr.isatty() else None
    path = _registry(repo).get(ref, out, force=force, progress=meter, dvc_remote=dvc_remote)
    if meter is not None:
        meter.done()
    typer.echo(render.safe(str(path)))


# -- writes --------------------------------------------------------------------------------


@app.command()
@reports_errors
def init(
    remote: Annotated[
        str | None, typer.Option("--remote", help="Default DVC remote (folder or URL).")
    ] = None,
    remote_config: Annotated[
        list[str] | None,
        typer.Option(
            "--remote-config",
            help="K=V option of the remote, e.g. endpointurl=…; credentials stay local.",
        ),
    ] = None,
    stages: Annotated[
        str | None, typer.Option("--stages", help="Allowed stages in promotion order: a,b,c.")
    ] = None,
    message: MessageOpt = None,
    push: PushOpt = False,
    git_remote: Annotated[str, typer.Option("--git-remote", help="Git remote to push to.")] = (
        "origin"
    ),
    repo: RepoOpt = ".",
) -> None:
    """Make the current Git repository a registry (dvc init if needed, registry.yaml)."""
    from modelreg.values import parse_pairs

    stage_list = [s.strip() for s in stages.split(",")] if stages is not None else None
    options = parse_pairs(remote_config or [], "remote-config")
    path = _registry(repo).init(
        stages=stage_list,
        remote=remote,
        remote_config=options,
        message=message,
        push=git_remote if push else None,
    )
    typer.echo(render.safe(f"Initialized modelreg registry in {path.parent}"))


@app.command()
@reports_errors
def register(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="Model file or folder inside the repository.")
    ],
    metric: Annotated[list[str] | None, typer.Option("--metric", help="K=V (repeatable).")] = None,
    metrics_file: Annotated[
        list[Path] | None, typer.Option("--metrics-file", help="JSON/YAML metrics file.")
    ] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="K=V (repeatable).")] = None,
    params_file: Annotated[
        list[Path] | None, typer.Option("--params-file", help="JSON/YAML params file.")
    ] = None,
    description: Annotated[str | None, typer.Option("--description", help="Model text.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="Label (repeatable).")] = None,
    bump: Annotated[
        str, typer.Option("--bump", help="Which part to bump: major, minor or patch.")
    ] = "minor",
    version: Annotated[str | None, typer.Option("--version", help="Explicit vX.Y.Z.")] = None,
    allow_unchanged: Annotated[
        bool, typer.Option("--allow-unchanged", help="Register bytes identical to the latest.")
    ] = False,
    no_tag: Annotated[
        bool,
        typer.Option(
            "--no-tag",
            help="Propose it for a pull request: commit the pointer and index entry on this "
            "branch, no tag (apply tags it after the merge).",
        ),
    ] = False,
    message: MessageOpt = None,
    push: PushOpt = False,
    remote: RemoteOpt = "origin",
    repo: RepoOpt = ".",
) -> None:
    """Track PATH with DVC, record it in registry.yaml, commit, and tag NAME@vX.Y.Z."""
    from modelreg.errors import InvalidInputError
    from modelreg.values import metrics_from, params_from

    if bump not in ("major", "minor", "patch"):
        raise InvalidInputError(f"invalid --bump {bump!r}: use major, minor or patch")
    bump_part: Literal["major", "minor", "patch"] = bump  # type: ignore[assignment]
    metrics = metrics_from(pairs=metric or [], files=metrics_file or [])
    params = params_from(pairs=param or [], files=params_file or [])
    mv = _registry(repo).register(
        name,
        path.absolute(),
        metrics=metrics,
        params=params,
        description=description,
        labels=label,
        bump=bump_part,
        version=version,
        message=message,
        allow_unchanged=allow_unchanged,
        push=remote if push else None,
        no_tag=no_tag,
    )
    typer.echo(mv.version)


@app.command()
@reports_errors
def promote(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    version: Annotated[str, typer.Argument(metavar="VERSION", help="Version to promote, vX.Y.Z.")],
    stage: Annotated[str, typer.Argument(metavar="STAGE", help="Stage to assign.")],
    force: Annotated[bool, typer.Option("--force", help="Override stage policies.")] = False,
    no_tag: Annotated[
        bool, typer.Option("--no-tag", help="Only edit registry.yaml, for a pull request.")
    ] = False,
    branch: Annotated[
        str | None, typer.Option("--branch", help="With --no-tag: commit on this new branch.")
    ] = None,
    message: MessageOpt = None,
    push: PushOpt = False,
    remote: RemoteOpt = "origin",
    repo: RepoOpt = ".",
) -> None:
    """Assign STAGE to VERSION (tag NAME#STAGE#N), or with --no-tag propose it in
    registry.yaml for a pull request."""
    from modelreg.errors import InvalidInputError

    reg = _registry(repo)
    if branch is not None and not no_tag:
        raise InvalidInputError("--branch needs --no-tag: a tagged promotion has no branch")
    if no_tag:
        if push:
            raise InvalidInputError("--no-tag with --push: push the branch and open a PR")
        where = reg.propose(name, version, stage, branch=branch, message=message, force=force)
        target = f"branch {branch} ({where[:12]})" if branch else where
        typer.echo(render.safe(f"{name} {version} proposed for {stage} in {target}"))
        return
    change = reg.promote(
        name, version, stage, message=message, force=force, push=remote if push else None
    )
    typer.echo(f"{change.name} {change.version} -> {change.stage} ({change.tag})")


@app.command()
@reports_errors
def demote(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    stage: Annotated[str, typer.Argument(metavar="STAGE", help="Stage to unassign.")],
    force: Annotated[
        bool, typer.Option("--force", help="Override allow_empty: false for this stage.")
    ] = False,
    message: MessageOpt = None,
    push: PushOpt = False,
    remote: RemoteOpt = "origin",
    repo: RepoOpt = ".",
) -> None:
    """Unassign the current holder of STAGE; print what holds it now."""
    change = _registry(repo).demote(
        name, stage, message=message, push=remote if push else None, force=force
    )
    now = change.holder or "nothing"
    typer.echo(f"{change.name} {change.version} removed from {change.stage}; it now holds {now}")


@app.command()
@reports_errors
def check(
    dvc_remote: Annotated[
        bool,
        typer.Option("--remote", help="Also check every indexed artifact is in the DVC remote."),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="With --remote: download and re-hash every indexed artifact."
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Fail on drift too (stage tags moved outside the file)."),
    ] = False,
    json: JsonOpt = False,
    repo: RepoOpt = ".",
) -> None:
    """Validate registry.yaml: schema, names, tags vs index, desired stages, policies; list
    drifted stages (a warning, an error with --strict)."""
    report = _registry(repo).check(remote=dvc_remote, verify=verify, strict=strict)
    if json:
        typer.echo(
            render.to_json(
                {
                    "ok": report.ok,
                    "problems": report.problems,
                    "drift": report.drift,
                    "notes": report.notes,
                    "warnings": report.warnings,
                }
            )
        )
    else:
        for problem in report.problems:
            typer.echo(render.safe(str(problem)))
        for note in report.notes:
            typer.echo(render.safe(f"note: {note}"))
        for warning in report.warnings:
            typer.echo(render.safe(f"warning: {warning}"))
        for pair in report.drift:
            label = "error" if strict else "warning"
            hint = "run `modelreg apply --adopt` to record it, or `modelreg apply --revert`"
            typer.echo(render.safe(f"{label}: {pair.describe()}: {hint}"))
        if report.ok:
            typer.echo(
                f"registry.yaml is consistent: {_count(report.models, 'model')}, "
                f"{_count(report.versions, 'version')}"
                + (f" ({len(report.drift)} drifted stage(s))" if report.drift else "")
            )
    if not report.ok:
        raise typer.Exit(1)


@app.command()
@reports_errors
def apply(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the tags it would create; create none.")
    ] = False,
    adopt: Annotated[
        bool,
        typer.Option("--adopt", help="Record drifted stages (and unindexed versions) in the file."),
    ] = False,
    revert: Annotated[
        bool, typer.Option("--revert", help="Make drifted stages follow the file too.")
    ] = False,
    message: MessageOpt = None,
    push: PushOpt = False,
    remote: RemoteOpt = "origin",
    json: JsonOpt = False,
    repo: RepoOpt = ".",
) -> None:
    """Create the tags that make every stage match the committed registry.yaml
    (idempotent); refuses drifted stages unless told to --adopt or --revert them."""
    changes = _registry(repo).apply(
        dry_run=dry_run,
        message=message,
        push=remote if push else None,
        adopt=adopt,
        revert=revert,
    )
    if json:
        # What CI hands to its deploy job: the (model, stage) pairs this run changed.
        typer.echo(render.to_json(changes))
        return
    verb = "would create" if dry_run else "created"
    for c in changes:
        where = f" ({c.stage})" if c.stage else ""
        typer.echo(f"{verb} {c.tag}: {c.action.value} {c.name} {c.version}{where}")
    if not changes:
        typer.echo("Nothing to apply: the tags match registry.yaml")


@app.command()
@reports_errors
def rollback(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    stage: Annotated[str, typer.Argument(metavar="STAGE", help="Stage to roll back.")],
    to: Annotated[str | None, typer.Option("--to", help="Version to roll back to.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Override stage policies.")] = False,
    message: MessageOpt = None,
    push: PushOpt = False,
    remote: RemoteOpt = "origin",
    repo: RepoOpt = ".",
) -> None:
    """Give STAGE back to the version that held it before the current holder."""
    change = _registry(repo).rollback(
        name, stage, to=to, message=message, push=remote if push else None, force=force
    )
    typer.echo(f"{change.name} {change.stage} -> {change.version} ({change.tag})")


@app.command()
@reports_errors
def deprecate(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Model name.")],
    version: Annotated[
        str | None,
        typer.Argument(metavar="VERSION", help="Version to deregister (whole model when omitted)."),
    ] = None,
    message: MessageOpt = None,
    push: PushOpt = False,
    remote: RemoteOpt = "origin",
    repo: RepoOpt = ".",
) -> None:
    """Deregister one version, or deprecate the whole model."""
    tag = _registry(repo).deprecate(name, version, message=message, push=remote if push else None)
    typer.echo(tag)


@app.command("push")
@reports_errors
def push_(remote: RemoteOpt = "origin", repo: RepoOpt = ".") -> None:
    """Push artifacts to the DVC remote, then the branch and registry tags in one atomic push."""
    tags = _registry(repo).push(remote)
    listed = ": " + ", ".join(tags) if tags else ""
    typer.echo(render.safe(f"Pushed {len(tags)} tag(s) to {redact(remote)}{listed}"))


@index_app.command("rebuild")
@reports_errors
def index_rebuild(
    message: MessageOpt = None,
    push: PushOpt = False,
    remote: RemoteOpt = "origin",
    repo: RepoOpt = ".",
) -> None:
    """Rewrite registry.yaml from the tags alone and commit it."""
    index = _registry(repo).rebuild_index(message=message, push=remote if push else None)
    count = sum(len(m.versions) for m in index.models.values())
    typer.echo(
        f"Rebuilt registry.yaml: {_count(len(index.models), 'model')}, {_count(count, 'version')}"
    )


# -- the registry as web pages -------------------------------------------------------------


@app.command()
@reports_errors
def site(
    out: Annotated[
        str,
        typer.Option(
            "--out", "-o", help="Folder to write the site to (new, empty, or a previous site)."
        ),
    ],
    redact_emails: Annotated[
        bool,
        typer.Option("--redact-emails", help="Leave authors' e-mail addresses out of the pages."),
    ] = False,
    repo: RepoOpt = ".",
) -> None:
    """Write the registry as static web pages (GitHub/GitLab Pages, or open index.html)."""
    from modelreg.site.build import build_site

    report = build_site(_registry(repo), Path(out), redact_emails=redact_emails)
    typer.echo(
        f"Wrote {_count(report.pages, 'page')} ({_count(report.models, 'model')}, "
        f"{_count(report.versions, 'version')}) to {report.path}; open "
        f"{render.safe((report.path / 'index.html').as_uri())}"
    )


@app.command()
@reports_errors
def ui(
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on (0 picks a free one).")
    ] = 8765,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (default: this machine only).")
    ] = "127.0.0.1",
    repo: RepoOpt = ".",
) -> None:
    """Serve the registry's pages read-only on 127.0.0.1; each request reads the tags anew."""
    from modelreg.site.server import make_server, url_of

    server = make_server(_registry(repo), host, port)
    typer.echo(f"modelreg ui: serving {url_of(server)} (read-only; Ctrl-C stops it)")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except (Interrupted, KeyboardInterrupt):
        typer.echo("modelreg ui: stopped")
    finally:
        server.server_close()


# The git merge driver for registry.yaml (`.gitattributes`: `/registry.yaml merge=modelreg`).
# Not wrapped in reports_errors: the driver reports its own conflicts and exit codes.
app.command("merge-index")(merge_index_command)


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted()


def _show_core_notes() -> None:
    """The core never prints; what it reports as it goes (a repaired write, a wait for the
    lock) is logged to the ``modelreg`` logger, which the CLI shows on stderr."""
    import logging

    class _Safe(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return f"modelreg: {render.safe(record.getMessage())}"

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Safe())
    logger = logging.getLogger("modelreg")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main() -> None:
    """Console entry point: exit 0, 1 (registry error), 2 (usage) or 130 (Ctrl-C)."""
    signal.signal(signal.SIGINT, _interrupt)
    _show_core_notes()
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    os.environ.setdefault("GTO_NO_ANALYTICS", "1")
    try:
        app()
    except Interrupted:
        _fail("interrupted; nothing was left half-written")
        sys.exit(130)
    except RegistryError as e:  # raised outside a command, e.g. by a callback
        _fail(str(e))
        sys.exit(1)
    except Exception as e:
        # A bug, not a user error: still one line, with a way to get the details.
        if os.environ.get("MODELREG_DEBUG"):
            raise
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        _fail(
            f"unexpected {type(e).__name__}: {first} "
            "(run again with MODELREG_DEBUG=1 for the traceback, and please report it)"
        )
        sys.exit(1)
