"""The Typer application.  Each command parses its options, makes one library call and
renders the record it gets back.  Every command is registered through :func:`command`, which
also funnels its :class:`RegistryError` into one line on stderr; :func:`main` catches what is
raised outside a command (usage errors, callbacks).

No ``from __future__ import annotations`` here on purpose: Typer reads every command's
annotations at start-up, and string annotations would cost it hundreds of ``eval`` calls
(about 20 ms of each command).
"""

import functools
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args

import typer
from typer.core import TyperCommand

from modelreg.cli import collector, render
from modelreg.cli.merge_command import merge_index as merge_index_command
from modelreg.errors import InvalidInputError, RegistryError
from modelreg.gitrepo import redact
from modelreg.registry import Registry
from modelreg.semver import Bump


class _Command(TyperCommand):
    """A command whose help names each argument by its metavar alone: ``NAME STAGE`` in the
    usage line and ``NAME  Model name.`` in the list, where Typer writes ``{NAME}`` and
    ``NAME <str>``, which read like placeholders to fill in.

    Both overrides are Click's documented extension points (``cls=``); what they rely on of
    Typer is only the shape of a required argument's usage piece, ``{NAME}``, which
    ``tests/test_cli_ux.py::test_help_names_arguments_plainly`` pins down."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                # Every modelreg argument has a metavar; the type Typer appends says nothing.
                arguments.append((param.metavar or record[0], record[1]))
            else:
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


_APP_SETTINGS: dict[str, Any] = {"pretty_exceptions_enable": False, "rich_markup_mode": None}
app = typer.Typer(
    name="modelreg",
    help="A Git-backed model registry: versions and stages are Git tags, bytes live in DVC.",
    no_args_is_help=True,
    **_APP_SETTINGS,
)
index_app = typer.Typer(help="Maintain registry.yaml.", no_args_is_help=True)
app.add_typer(index_app, name="index")
_GROUP_NAMES = {id(index_app): "index"}

F = TypeVar("F", bound=Callable[..., Any])


# -- completion ------------------------------------------------------------------------------
# Each callback imports modelreg.cli.complete when the shell asks for candidates, and the
# callbacks are attached only then: Typer inspects every callback's signature when it builds
# the commands (about 1 ms of each run), and a command never needs them.  The variable is
# the one Typer's completion scripts set for the `modelreg` executable.
_COMPLETING = "_MODELREG_COMPLETE" in os.environ


def _completer(func: Callable[[typer.Context, str], list[str]]) -> Any:
    return func if _COMPLETING else None


def _complete_models(ctx: typer.Context, incomplete: str) -> list[str]:
    from modelreg.cli import complete

    return complete.models(complete.params(ctx), incomplete)


def _complete_stages(ctx: typer.Context, incomplete: str) -> list[str]:
    from modelreg.cli import complete

    return complete.stages(complete.params(ctx), incomplete)


def _complete_held_stages(ctx: typer.Context, incomplete: str) -> list[str]:
    from modelreg.cli import complete

    return complete.stages(complete.params(ctx), incomplete, held=True)


def _complete_versions(ctx: typer.Context, incomplete: str) -> list[str]:
    from modelreg.cli import complete

    return complete.versions(complete.params(ctx), incomplete)


def _complete_active_versions(ctx: typer.Context, incomplete: str) -> list[str]:
    from modelreg.cli import complete

    return complete.versions(complete.params(ctx), incomplete, active=True)


def _complete_promotable(ctx: typer.Context, incomplete: str) -> list[str]:
    from modelreg.cli import complete

    return complete.versions(complete.params(ctx), incomplete, active=True, latest=True)


def _complete_references(ctx: typer.Context, incomplete: str) -> list[str]:
    from modelreg.cli import complete

    return complete.references(complete.params(ctx), incomplete)


# -- shared parameters -----------------------------------------------------------------------

NameArg = Annotated[
    str,
    typer.Argument(metavar="NAME", help="Model name.", autocompletion=_completer(_complete_models)),
]
StageArg = Annotated[
    str,
    typer.Argument(
        metavar="STAGE",
        help="Stage, e.g. production.",
        autocompletion=_completer(_complete_stages),
    ),
]
HeldStageArg = Annotated[
    str,
    typer.Argument(
        metavar="STAGE",
        help="A stage NAME holds now, e.g. production.",
        autocompletion=_completer(_complete_held_stages),
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Override stage policies.")]
ReadRepoOpt = Annotated[
    str,
    typer.Option(
        "--repo",
        metavar="PATH|URL",
        help="The registry's Git repository: a folder in it, or its URL (read without a "
        "clone).  [default: the current folder]",
        show_default=False,
    ),
]
RepoOpt = Annotated[
    str,
    typer.Option(
        "--repo",
        metavar="PATH",
        help="A folder in the registry's Git repository (a clone).  [default: the current folder]",
        show_default=False,
    ),
]
JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json", help="Print JSON instead of a table (errors too: one JSON line on stderr)."
    ),
]
PushOpt = Annotated[
    bool,
    typer.Option(
        "--push",
        help="Publish to the Git remote (--git-remote) and the DVC remote (retries on races).",
    ),
]
GitRemoteOpt = Annotated[
    str, typer.Option("--git-remote", metavar="NAME", help="Git remote to push to.")
]
MessageOpt = Annotated[
    str | None,
    typer.Option(
        "--message",
        "-m",
        metavar="TEXT",
        help="Note recorded in the tag and commit messages (the reason for the change).",
    ),
]
CommitMessageOpt = Annotated[
    str | None,
    typer.Option(
        "--message", "-m", metavar="TEXT", help="Note added to the commit message (no tag)."
    ),
]


def _bump(value: str) -> Bump:
    # A bad value is modelreg's one-line error (exit 1), not Typer's usage screen: the parser
    # runs before the command, so main() reports it.
    if value not in get_args(Bump):
        raise InvalidInputError(f"invalid --bump {value!r}: use major, minor or patch")
    return value  # type: ignore[return-value]


BumpOpt = Annotated[
    Bump,
    typer.Option(
        "--bump",
        metavar="PART",
        parser=_bump,
        help="Which part to bump: major, minor or patch.",
    ),
]


class Interrupted(BaseException):
    """Ctrl-C, raised past libraries that swallow KeyboardInterrupt into other errors."""


def _asks_for_json(args: Sequence[str]) -> bool:
    """Whether a command line asks for ``--json`` (before any ``--``)."""
    for arg in args:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def _fail(message: str, kind: str = "error", *, as_json: bool = False) -> None:
    """One line on stderr: ``modelreg: error: …``, or under ``--json`` the JSON error
    ``{"error": {"type": KIND, "message": …}}``."""
    if as_json:
        import json

        # JSON escapes every control character itself: the message stays exact and one line.
        error = {"type": kind, "message": redact(message)}
        typer.echo(json.dumps({"error": error}), err=True)
        return
    # Messages quote names, refs and file contents from repositories the user may not trust:
    # escaped, no control sequence reaches the terminal and the message stays one line.
    typer.echo(f"modelreg: error: {render.safe(redact(message))}", err=True)


def _note(message: str) -> None:
    typer.echo(f"modelreg: note: {message}", err=True)


def _reports_errors(func: F) -> F:
    """Turn a :class:`RegistryError` into a one-line message on stderr and exit 1 (a JSON
    line when the command was asked for ``--json``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        collector.release()  # the startup is over (see modelreg.cli.collector)
        try:
            return func(*args, **kwargs)
        except RegistryError as e:
            _fail(str(e), type(e).__name__, as_json=bool(kwargs.get("json")))
            raise typer.Exit(1) from None

    wrapper.reports_errors = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _renamed(command: str, old: str, new: str) -> dict[str, Any]:
    """``context_settings`` under which ``command`` still takes ``--OLD``, the deprecated
    spelling of ``--NEW``, with a one-line note on stderr.  (The parser passes every option
    name it reads through this; a renaming costs no extra parameter to build.)"""

    def normalize(token: str) -> str:
        if token != old:
            return token
        if not _COMPLETING:
            _note(f"`{command} --{old}` is deprecated: use `--{new}`")
        return new

    return {"token_normalize_func": normalize}


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


GIT_REMOTE_WAS_REMOTE = ("remote", "git-remote")
"""A write that can push: its ``--git-remote`` was once spelled ``--remote``."""


def command(
    name: str,
    *,
    renamed: tuple[str, str] | None = None,
    group: typer.Typer | None = None,
) -> Callable[[F], F]:
    """Register a function as the command ``name`` (of ``group``, else of the application),
    with modelreg's help layout (:class:`_Command`) and its error funnel: a
    :class:`RegistryError` becomes one line on stderr and exit 1.  The only way commands
    are registered, so none can miss the funnel.  ``renamed`` is ``(old, new)``: the option
    ``--OLD`` still works as the deprecated spelling of ``--NEW``."""
    parent = app if group is None else group
    shown = name if group is None else f"{_GROUP_NAMES[id(group)]} {name}"
    settings = _renamed(shown, *renamed) if renamed else None

    def register(func: F) -> F:
        funnelled = _reports_errors(func)
        parent.command(name, cls=_Command, context_settings=settings)(funnelled)
        if group is None:
            _TOP_LEVEL[name] = (funnelled, settings)
        return func

    return register


_TOP_LEVEL: dict[str, tuple[Callable[..., Any], dict[str, Any] | None]] = {}
"""Each top-level command as :func:`command` registered it, for :func:`_cli_for`."""


def _cli_for(args: Sequence[str]) -> tuple[typer.Typer, list[str], str | None]:
    """The application to run ``args`` with, the arguments to give it and its program name.

    Typer builds every command of an application (signatures, parameters) before it parses
    a single argument, and builds their type adapters as it parses; a command line that
    starts with a top-level command needs only that one.  So such a line runs a one-command
    application of it, named ``modelreg NAME`` as it would be inside the whole one (the same
    help, usage line and errors); everything else (``--help``, ``--version``, ``index``,
    shell completion) runs the whole application."""
    first = args[0] if args else ""
    if first not in _TOP_LEVEL or _COMPLETING:
        return app, list(args), None
    func, settings = _TOP_LEVEL[first]
    # Completion is installed through the whole application (`modelreg --install-completion`).
    one = typer.Typer(add_completion=False, **_APP_SETTINGS)
    one.command(first, cls=_Command, context_settings=settings)(func)
    return one, list(args[1:]), f"{_program_name()} {first}"


def _program_name() -> str:
    """What the usage line calls the program: ``modelreg``, or ``python -m modelreg``."""
    script = os.path.basename(sys.argv[0]) if sys.argv else "modelreg"
    return "python -m modelreg" if script == "__main__.py" else script


def _push_to(push: bool, git_remote: str) -> str | None:
    """The Git remote a write publishes to: ``--git-remote`` with ``--push``, else none."""
    return git_remote if push else None


def _time_option(flag: str, help_text: str) -> Any:
    return typer.Option(
        flag, metavar="TIME", help=f"{help_text} (2026-11-20T10:02; UTC unless Z/+HH:MM)."
    )


def _instant(value: str | None, flag: str) -> Any:
    """``--at`` and friends, parsed here so that a bad value's error names the option."""
    from modelreg.timespec import parse_instant

    return None if value is None else parse_instant(value, flag)


# -- reads ---------------------------------------------------------------------------------


@command("which")
def which(
    name: NameArg,
    stage: StageArg,
    at: Annotated[
        str | None, _time_option("--at", "The version that held STAGE at this instant")
    ] = None,
    repo: ReadRepoOpt = ".",
    json: JsonOpt = False,
) -> None:
    """Print the version that holds STAGE, or held it --at TIME (exit 1 when none does)."""
    reg = _registry(repo)
    when = _instant(at, "--at")
    typer.echo(
        render.to_json(reg.which(name, stage, at=when))
        if json
        else reg.which_version(name, stage, at=when)
    )


@command("latest")
def latest(name: NameArg, repo: ReadRepoOpt = ".", json: JsonOpt = False) -> None:
    """Print the latest (greatest active) version of NAME."""
    reg = _registry(repo)
    typer.echo(render.to_json(reg.latest(name)) if json else reg.latest_version(name))


@command("list")
def list_(
    at: Annotated[
        str | None, _time_option("--at", "Each model's holders and latest at this instant")
    ] = None,
    repo: ReadRepoOpt = ".",
    json: JsonOpt = False,
) -> None:
    """One row per model: latest version, each stage's version, headline metrics."""
    from modelreg.index.header import in_promotion_order

    reg = _registry(repo)
    rows = reg.list_models(at=_instant(at, "--at"))
    if json:
        typer.echo(render.to_json(rows))
        return
    order = reg.stage_order()
    used = {s for r in rows for s in r.stages} - set(order)
    typer.echo(render.model_list(rows, [*order, *in_promotion_order(used, order)]))


@command("show")
def show(
    ref: Annotated[
        str,
        typer.Argument(
            metavar="REF",
            help="NAME for all versions, or NAME@VERSION, NAME@latest, NAME#STAGE.",
            autocompletion=_completer(_complete_references),
        ),
    ],
    repo: ReadRepoOpt = ".",
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


@command("history")
def history(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="NAME",
            help="Model name (all models when omitted).",
            autocompletion=_completer(_complete_models),
        ),
    ] = None,
    since: Annotated[str | None, _time_option("--since", "Events dated at or after")] = None,
    until: Annotated[str | None, _time_option("--until", "Events dated at or before")] = None,
    repo: ReadRepoOpt = ".",
    json: JsonOpt = False,
) -> None:
    """The audit log, newest first: every event with its time (UTC), author, version,
    stage, message and -m note."""
    events = _registry(repo).history(
        name, since=_instant(since, "--since"), until=_instant(until, "--until")
    )
    typer.echo(render.to_json(events) if json else render.events(events))


@command("search")
def search(
    expr: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="EXPR",
            help="Terms that must all hold, e.g. 'accuracy>=0.9' label=tabular "
            "stage=production 'registered>2026-10-01' (quote terms that compare).",
        ),
    ] = None,
    repo: ReadRepoOpt = ".",
    json: JsonOpt = False,
) -> None:
    """Versions across the registry whose metrics, params, labels, stages, author, date or
    flavor match EXPR."""
    rows = _registry(repo).search(" ".join(expr or []))
    typer.echo(render.to_json(rows) if json else render.search_rows(rows))


@command("compare")
def compare(
    name: NameArg,
    v1: Annotated[
        str,
        typer.Argument(
            metavar="V1", help="First version.", autocompletion=_completer(_complete_versions)
        ),
    ],
    v2: Annotated[
        str,
        typer.Argument(
            metavar="V2", help="Second version.", autocompletion=_completer(_complete_versions)
        ),
    ],
    repo: ReadRepoOpt = ".",
    json: JsonOpt = False,
) -> None:
    """Metrics and params side by side with deltas; whether the artifact bytes changed."""
    result = _registry(repo).compare(name, v1, v2)
    typer.echo(render.to_json(result) if json else render.comparison(result))


@command("get")
def get(
    ref: Annotated[
        str,
        typer.Argument(
            metavar="REF",
            help="NAME#STAGE, NAME@VERSION, NAME@latest or NAME.",
            autocompletion=_completer(_complete_references),
        ),
    ],
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="PATH",
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
            metavar="URL",
            help="Read the bytes from this DVC remote (URL or folder), not the registry's "
            "(default: $MODELREG_DVC_REMOTE).",
        ),
    ] = None,
    repo: ReadRepoOpt = ".",
) -> None:
    """Download a version's artifact, verify its md5, write it atomically."""
    meter = render.ProgressMeter(sys.stderr) if sys.stderr.isatty() else None
    path = _registry(repo).get(ref, out, force=force, progress=meter, dvc_remote=dvc_remote)
    if meter is not None:
        meter.done()
    typer.echo(render.safe(str(path)))


# -- writes --------------------------------------------------------------------------------


@command("init", renamed=("remote", "dvc-remote"))
def init(
    dvc_remote: Annotated[
        str | None,
        typer.Option(
            "--dvc-remote",
            metavar="URL",
            help="Default DVC remote (a folder or URL).  On an existing registry: change it "
            "(one commit of .dvc/config).",
        ),
    ] = None,
    remote_config: Annotated[
        list[str] | None,
        typer.Option(
            "--remote-config",
            metavar="KEY=VALUE",
            help="Option of the DVC remote, e.g. endpointurl=…; credentials stay local "
            "(repeatable).",
        ),
    ] = None,
    stages: Annotated[
        str | None,
        typer.Option("--stages", metavar="A,B,C", help="Allowed stages in promotion order: a,b,c."),
    ] = None,
    message: CommitMessageOpt = None,
    push: PushOpt = False,
    git_remote: GitRemoteOpt = "origin",
    repo: RepoOpt = ".",
) -> None:
    """Make the current Git repository a registry (dvc init if needed, registry.yaml), or
    with --dvc-remote change an existing registry's DVC remote."""
    from modelreg.values import parse_pairs

    options = parse_pairs(remote_config or [], "remote-config")
    pushed_to = _push_to(push, git_remote)
    reg = _registry(repo)
    if dvc_remote is not None and reg.is_initialized:
        if stages is not None:
            raise InvalidInputError(
                "--stages applies to a new registry: edit `stages:` in registry.yaml instead"
            )
        change = reg.set_dvc_remote(
            dvc_remote, remote_config=options, message=message, push=pushed_to
        )
        typer.echo(render.safe(redact(render.dvc_remote_change(change))))
        return
    stage_list = [s.strip() for s in stages.split(",")] if stages is not None else None
    path = reg.init(
        stages=stage_list,
        dvc_remote=dvc_remote,
        remote_config=options,
        message=message,
        push=pushed_to,
    )
    typer.echo(render.safe(f"Initialized modelreg registry in {path.parent}"))


@command("register", renamed=GIT_REMOTE_WAS_REMOTE)
def register(
    name: NameArg,
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="Model file or folder inside the repository.")
    ],
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", metavar="KEY=VALUE", help="A metric (repeatable)."),
    ] = None,
    metrics_file: Annotated[
        list[Path] | None,
        typer.Option("--metrics-file", metavar="PATH", help="JSON/YAML metrics file."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", metavar="KEY=VALUE", help="A parameter (repeatable)."),
    ] = None,
    params_file: Annotated[
        list[Path] | None,
        typer.Option("--params-file", metavar="PATH", help="JSON/YAML params file."),
    ] = None,
    description: Annotated[
        str | None,
        typer.Option("--description", metavar="TEXT", help="What the model is."),
    ] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", metavar="LABEL", help="Label (repeatable).")
    ] = None,
    bump: BumpOpt = "minor",
    version: Annotated[
        str | None,
        typer.Option("--version", metavar="VERSION", help="Explicit version, vX.Y.Z."),
    ] = None,
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
    git_remote: GitRemoteOpt = "origin",
    repo: RepoOpt = ".",
) -> None:
    """Track PATH with DVC, record it in registry.yaml, commit, and tag NAME@vX.Y.Z."""
    from modelreg.values import metrics_from, params_from

    metrics = metrics_from(pairs=metric or [], files=metrics_file or [])
    params = params_from(pairs=param or [], files=params_file or [])
    mv = _registry(repo).register(
        name,
        path.absolute(),
        metrics=metrics,
        params=params,
        description=description,
        labels=label,
        bump=bump,
        version=version,
        message=message,
        allow_unchanged=allow_unchanged,
        push=_push_to(push, git_remote),
        no_tag=no_tag,
    )
    typer.echo(mv.version)


@command("promote", renamed=GIT_REMOTE_WAS_REMOTE)
def promote(
    name: NameArg,
    version: Annotated[
        str,
        typer.Argument(
            metavar="VERSION",
            help="Version to promote, vX.Y.Z or latest.",
            autocompletion=_completer(_complete_promotable),
        ),
    ],
    stage: StageArg,
    force: ForceOpt = False,
    no_tag: Annotated[
        bool, typer.Option("--no-tag", help="Only edit registry.yaml, for a pull request.")
    ] = False,
    branch: Annotated[
        str | None,
        typer.Option(
            "--branch", metavar="BRANCH", help="With --no-tag: commit on this new branch."
        ),
    ] = None,
    message: MessageOpt = None,
    push: PushOpt = False,
    git_remote: GitRemoteOpt = "origin",
    repo: RepoOpt = ".",
) -> None:
    """Assign STAGE to VERSION (tag NAME#STAGE#N), or with --no-tag propose it in
    registry.yaml for a pull request."""
    reg = _registry(repo)
    if branch is not None and not no_tag:
        raise InvalidInputError("--branch needs --no-tag: a tagged promotion has no branch")
    if no_tag:
        if push:
            raise InvalidInputError("--no-tag with --push: push the branch and open a PR")
        proposal = reg.propose(name, version, stage, branch=branch, message=message, force=force)
        target = (
            f"branch {proposal.branch} ({(proposal.commit or '')[:12]})"
            if proposal.branch
            else proposal.path
        )
        typer.echo(render.safe(f"{name} {version} proposed for {stage} in {target}"))
        return
    change = reg.promote(
        name, version, stage, message=message, force=force, push=_push_to(push, git_remote)
    )
    typer.echo(f"{change.name} {change.version} -> {change.stage} ({change.tag})")


@command("demote", renamed=GIT_REMOTE_WAS_REMOTE)
def demote(
    name: NameArg,
    stage: HeldStageArg,
    force: Annotated[
        bool, typer.Option("--force", help="Override allow_empty: false for this stage.")
    ] = False,
    message: MessageOpt = None,
    push: PushOpt = False,
    git_remote: GitRemoteOpt = "origin",
    repo: RepoOpt = ".",
) -> None:
    """Unassign the current holder of STAGE; print what holds it now."""
    change = _registry(repo).demote(
        name, stage, message=message, push=_push_to(push, git_remote), force=force
    )
    now = change.holder or "nothing"
    typer.echo(f"{change.name} {change.version} removed from {change.stage}; it now holds {now}")


@command("check", renamed=("remote", "verify-remote"))
def check(
    verify_remote: Annotated[
        bool,
        typer.Option(
            "--verify-remote", help="Also check every indexed artifact is in the DVC remote."
        ),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="With --verify-remote: download and re-hash every indexed artifact."
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
    report = _registry(repo).check(verify_remote=verify_remote, verify=verify, strict=strict)
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


@command("apply", renamed=GIT_REMOTE_WAS_REMOTE)
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
    git_remote: GitRemoteOpt = "origin",
    json: JsonOpt = False,
    repo: RepoOpt = ".",
) -> None:
    """Create the tags that make every stage match the committed registry.yaml
    (idempotent); refuses drifted stages unless told to --adopt or --revert them."""
    changes = _registry(repo).apply(
        dry_run=dry_run,
        message=message,
        push=_push_to(push, git_remote),
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


@command("rollback", renamed=GIT_REMOTE_WAS_REMOTE)
def rollback(
    name: NameArg,
    stage: HeldStageArg,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="VERSION",
            help="Version to roll back to.",
            autocompletion=_completer(_complete_active_versions),
        ),
    ] = None,
    force: ForceOpt = False,
    message: MessageOpt = None,
    push: PushOpt = False,
    git_remote: GitRemoteOpt = "origin",
    repo: RepoOpt = ".",
) -> None:
    """Give STAGE back to the version that held it before the current holder."""
    change = _registry(repo).rollback(
        name, stage, to=to, message=message, push=_push_to(push, git_remote), force=force
    )
    typer.echo(f"{change.name} {change.stage} -> {change.version} ({change.tag})")


@command("deprecate", renamed=GIT_REMOTE_WAS_REMOTE)
def deprecate(
    name: NameArg,
    version: Annotated[
        str | None,
        typer.Argument(
            metavar="VERSION",
            help="Version to deregister (whole model when omitted).",
            autocompletion=_completer(_complete_active_versions),
        ),
    ] = None,
    message: MessageOpt = None,
    push: PushOpt = False,
    git_remote: GitRemoteOpt = "origin",
    repo: RepoOpt = ".",
) -> None:
    """Deregister one version, or deprecate the whole model."""
    tag = _registry(repo).deprecate(name, version, message=message, push=_push_to(push, git_remote))
    typer.echo(tag)


@command("push", renamed=GIT_REMOTE_WAS_REMOTE)
def push_(git_remote: GitRemoteOpt = "origin", repo: RepoOpt = ".") -> None:
    """Push artifacts to the DVC remote, then the branch and registry tags in one atomic push."""
    tags = _registry(repo).push(git_remote)
    listed = ": " + ", ".join(tags) if tags else ""
    typer.echo(render.safe(f"Pushed {len(tags)} tag(s) to {redact(git_remote)}{listed}"))


@command("rebuild", group=index_app, renamed=GIT_REMOTE_WAS_REMOTE)
def index_rebuild(
    message: CommitMessageOpt = None,
    push: PushOpt = False,
    git_remote: GitRemoteOpt = "origin",
    repo: RepoOpt = ".",
) -> None:
    """Rewrite registry.yaml from the tags alone and commit it."""
    rebuilt = _registry(repo).rebuild_index(message=message, push=_push_to(push, git_remote))
    typer.echo(
        f"Rebuilt registry.yaml: {_count(rebuilt.models, 'model')}, "
        f"{_count(rebuilt.versions, 'version')}"
    )


# -- the registry as web pages -------------------------------------------------------------


@command("site")
def site(
    out: Annotated[
        str,
        typer.Option(
            "--out",
            "-o",
            metavar="PATH",
            help="Folder to write the site to (new, empty, or a previous site).",
        ),
    ],
    redact_emails: Annotated[
        bool,
        typer.Option("--redact-emails", help="Leave authors' e-mail addresses out of the pages."),
    ] = False,
    repo: ReadRepoOpt = ".",
) -> None:
    """Write the registry as static web pages (GitHub/GitLab Pages, or open index.html)."""
    from modelreg.site.build import build_site

    report = build_site(_registry(repo), Path(out), redact_emails=redact_emails)
    typer.echo(
        f"Wrote {_count(report.pages, 'page')} ({_count(report.models, 'model')}, "
        f"{_count(report.versions, 'version')}) to {report.path}; open "
        f"{render.safe((report.path / 'index.html').as_uri())}"
    )


@command("ui")
def ui(
    port: Annotated[
        int,
        typer.Option("--port", metavar="PORT", help="Port to listen on (0 picks a free one)."),
    ] = 8765,
    host: Annotated[
        str,
        typer.Option(
            "--host", metavar="HOST", help="Address to bind (default: this machine only)."
        ),
    ] = "127.0.0.1",
    repo: ReadRepoOpt = ".",
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
# It reports its own conflicts and exit codes; the funnel only catches what it does not.
command("merge-index")(merge_index_command)


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
    """Console entry point: exit 0, 1 (registry error), 2 (usage) or 130 (Ctrl-C).

    Under ``--json`` every failure is one JSON line on stderr,
    ``{"error": {"type": …, "message": …}}``, with the same exit code."""
    collector.hold()
    try:
        _main()
    finally:
        collector.at_exit()


def _main() -> None:
    signal.signal(signal.SIGINT, _interrupt)
    _show_core_notes()
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    os.environ.setdefault("GTO_NO_ANALYTICS", "1")
    as_json = _asks_for_json(sys.argv[1:])
    try:
        cli, args, prog_name = _cli_for(sys.argv[1:])
        # Not standalone: usage errors come back here, to be reported as JSON when asked.
        code = cli(args=args, prog_name=prog_name, standalone_mode=False)
    except Interrupted:
        _fail("interrupted; nothing was left half-written", "interrupted", as_json=as_json)
        sys.exit(130)
    except RegistryError as e:  # raised outside a command, e.g. by a callback
        _fail(str(e), type(e).__name__, as_json=as_json)
        sys.exit(1)
    except typer.Abort:
        _fail("aborted", "aborted", as_json=as_json)
        sys.exit(1)
    except typer.TyperException as e:
        # A usage error (a missing argument, an unknown option, a bad value: exit 2).
        if as_json:
            kind = "usage" if e.exit_code == 2 else type(e).__name__
            _fail(e.format_message(), kind, as_json=True)
        else:
            # Typer's own rendering: the usage line, the --help hint and the error.
            show = getattr(e, "show", None)
            if callable(show):
                show()
            else:
                _fail(e.format_message(), type(e).__name__)
        sys.exit(e.exit_code)
    except Exception as e:
        # A bug, not a user error: still one line, with a way to get the details.
        if os.environ.get("MODELREG_DEBUG"):
            raise
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        _fail(
            f"unexpected {type(e).__name__}: {first} "
            "(run again with MODELREG_DEBUG=1 for the traceback, and please report it)",
            type(e).__name__,
            as_json=as_json,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
