"""Registry use cases that create versions and the index: init, register, index rebuild."""

from __future__ import annotations

import dataclasses
import logging
import os
import posixpath
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from modelreg import sync, yamlio
from modelreg.dvcstore import dvccache, dvcfiles, dvcio, hashing
from modelreg.errors import (
    ConflictError,
    InvalidInputError,
)
from modelreg.gitrepo import ZERO_OID, GitRepo, redact
from modelreg.grammar import (
    TagName,
    check_name,
    check_stage,
    check_tag,
    check_version,
    format_tag,
    is_name,
    split_name,
)
from modelreg.index.editor import IndexEditor
from modelreg.index.entries import describe, entry_from_state, version_entry
from modelreg.index.files import write_atomic
from modelreg.index.header import DEFAULT_STAGES, INDEX_FILE
from modelreg.index.parse import load_index
from modelreg.index.schema import Index
from modelreg.index.schemafile import MODELINE, with_modeline
from modelreg.index.serialise import dump_index, write_index
from modelreg.locking import write_lock
from modelreg.queries import all_states, model_state, version_record
from modelreg.records import ArtifactRecord, EventKind, ModelVersion, RebuiltIndex, Scalar, field
from modelreg.semver import FIRST_VERSION, Bump, Version, is_version
from modelreg.state import ModelState
from modelreg.tagmessage import compose, parse_record
from modelreg.untrusted import check_no_links
from modelreg.writer import LOCAL, Write, WriteOptions, run_write, writing

log = logging.getLogger("modelreg")

# -- init --------------------------------------------------------------------------------


def init(
    repo: GitRepo,
    stages: list[str] | None,
    remote: str | None,
    remote_options: dict[str, str] | None = None,
    *,
    options: WriteOptions = LOCAL,
) -> Path:
    """Make a Git repository a registry; returns the index path.

    With ``options.push``, the commit is pushed to that Git remote (there are no tags yet)."""
    for stage in stages or []:
        check_stage(stage)
    if stages is not None and len(set(stages)) != len(stages):
        raise InvalidInputError(f"duplicate stage in {','.join(stages)!r}: list each once")
    if remote_options and not remote:
        raise InvalidInputError("--remote-config needs --dvc-remote URL")
    if (repo.root / INDEX_FILE).exists():
        raise ConflictError(
            f"{repo.root} is already a modelreg registry ({INDEX_FILE} exists); to change its "
            "DVC remote, run `modelreg init --dvc-remote URL`"
        )
    root = repo.root
    created_dvc = not dvcio.is_initialized(root)
    with writing(repo, need_index=False) as w:
        # A GTO registry already has tags: index them, with the stages they use, so the
        # new index passes its own check.
        states = all_states(repo)
        chosen, added = discover_stages(repo, states, stages)
        if any(e.parsed.stage for state in states.values() for e in state.events):
            log.warning(
                f"indexed the existing tags of {len(states)} model(s); promotion order: "
                f"{', '.join(chosen)} (edit `stages:` in {INDEX_FILE} to change it)"
            )
        branch = repo.head_ref().removeprefix("refs/heads/")
        fresh = Index(branch=None if branch == "HEAD" else branch, stages=chosen)
        for name, state in states.items():
            fresh.models[name] = entry_from_state(state, None)
        # The $schema line: editors validate the file (the commit adds the schema file).
        w.index = IndexEditor(MODELINE + dump_index(fresh))
        paths = [INDEX_FILE]
        w.snapshot(
            root / ".dvc/config",
            root / ".dvc/config.local",
            root / ".dvc/.gitignore",
            root / ".dvcignore",
        )
        if created_dvc:
            # `dvc init` also leaves .dvc/tmp behind; a half-made .dvc would make the retry
            # skip `dvc init`, so an undo removes the whole folder this command created.
            w.tx.created_dir(root / ".dvc")
            # `dvc init` stages its files in the user's index.  They belong in this write's
            # commit alone (the user's index follows it once the write is done), so they are
            # unstaged at once: a failed init must leave the index as it was.
            staged = repo.index_entries(dvcio.INIT_FILES)
            created = dvcio.init(root)
            _restore_index_entries(repo, created, staged)
            paths += created
        if remote:
            dvcio.set_default_remote(root, _remote_url(remote), remote_options)
            paths.append(".dvc/config")
        # registry.yaml merges per model, version and stage where git runs the merge.
        from modelreg.mergedriver import ensure_driver

        w.snapshot(root / ".gitattributes")
        if ensure_driver(repo):
            paths.append(".gitattributes")
        w.save_index()
        w.commit(sorted(set(paths)), compose("Initialize modelreg registry", options.message))
        w.finish()
    push = options.push
    if push is not None:
        with write_lock(repo.git_dir):
            try:
                sync.push_refs(repo, push, sync.current_branch(repo), [])
            except sync.PushRace as race:
                raise ConflictError(
                    f"initialized locally, but {push!r} has commits this clone lacks ({race}): "
                    "pull them, then `git push`"
                ) from race
    return root / INDEX_FILE


def _restore_index_entries(repo: GitRepo, paths: list[str], listing: str) -> None:
    """Put the user's index entries of ``paths`` back as ``git ls-files --stage`` listed
    them (``listing``); a path it did not list is removed from the index."""
    lines = {line.split("\t", 1)[1]: line for line in listing.splitlines() if "\t" in line}
    info = [lines.get(path, f"0 {ZERO_OID}\t{path}") for path in paths]
    if info:
        repo.run("update-index", "--index-info", stdin="\n".join(info) + "\n")


# Beside the one write that returns it (a record's cost is paid only by the commands using it).
@dataclasses.dataclass(frozen=True, kw_only=True)
class DvcRemoteChange:
    """What setting the default DVC remote of a registry changed.

    ``options`` and ``previous_options`` are the committed settings (``.dvc/config``);
    ``local`` names the options written to the uncommitted ``.dvc/config.local``
    (credentials), never their values, and ``dropped_local`` those removed from it because
    they were set for the previous URL.  ``commit`` is ``None`` when nothing was committed."""

    name: str
    url: str
    previous_url: str | None
    options: dict[str, str] = field(dict)
    previous_options: dict[str, str] = field(dict)
    local: list[str] = field(list)
    dropped_local: list[str] = field(list)
    commit: str | None = None


def set_dvc_remote(
    repo: GitRepo,
    url: str,
    settings: dict[str, str] | None = None,
    *,
    options: WriteOptions = LOCAL,
) -> DvcRemoteChange:
    """Set or change the default DVC remote of an existing registry: one write that commits
    ``.dvc/config`` (and, with ``options.push``, publishes it); credentials among ``settings`` go to
    the uncommitted ``.dvc/config.local``, and when the URL changes, the old URL's settings
    there are removed.  Nothing is written when nothing changes."""
    if not url.strip():
        raise InvalidInputError("empty --dvc-remote: pass a folder or a URL")
    target = _remote_url(url)
    settings = dict(settings or {})
    public = {k: v for k, v in settings.items() if k not in dvcio.SECRET_OPTIONS}
    secret = sorted(k for k in settings if k in dvcio.SECRET_OPTIONS)
    root = repo.root

    def body(w: Write) -> DvcRemoteChange:
        check_no_links(root, ".dvc/config")
        current, before = dvcio.default_remote_settings(root)
        name = current or "storage"
        previous = before.pop("url", None)
        change = DvcRemoteChange(
            name=name,
            url=target,
            previous_url=previous,
            options=public,
            previous_options=before,
            local=secret,
        )
        if previous == target and before == public and not secret:
            return change
        w.snapshot(root / ".dvc/config", root / ".dvc/config.local")
        moved = previous is not None and previous != target
        dropped = dvcio.set_default_remote(root, target, settings, name=name, drop_local=moved)
        change = dataclasses.replace(change, dropped_local=[k for k in dropped if k not in secret])
        if previous == target and before == public:
            return change  # only credentials changed: they are never committed
        headline = f"Set the default DVC remote {name} to {redact(target)}"
        op = options.trailer({"op": "dvc-remote", "url": target, "options": public})
        commit = w.commit([".dvc/config"], compose(headline, options.message), op)
        return dataclasses.replace(change, commit=commit)

    return run_write(repo, body, options)


def _remote_url(remote: str) -> str:
    # A local folder is stored absolute: DVC reads relative remote paths against .dvc/.
    if "://" in remote:
        return remote
    return os.fspath(Path(remote).expanduser().resolve())


# -- register ----------------------------------------------------------------------------


def _artifact_path(repo: GitRepo, path: str | os.PathLike[str]) -> tuple[Path, str]:
    """Absolute and repository-relative forms of an artifact path, validated."""
    raw = Path(path)
    full = (raw if raw.is_absolute() else repo.root / raw).resolve()
    try:
        rel = full.relative_to(repo.root.resolve()).as_posix()
    except ValueError:
        raise InvalidInputError(
            f"path {os.fspath(path)!r} is outside the repository {repo.root}: "
            "move the artifact into it"
        ) from None
    if rel == "." or rel.split("/")[0] in (".git", ".dvc"):
        raise InvalidInputError(f"path {os.fspath(path)!r} cannot be registered: pick a model file")
    if not full.exists():
        raise InvalidInputError(f"path {os.fspath(path)!r} does not exist: train or save it first")
    if rel == INDEX_FILE or rel.endswith(".dvc") or posixpath.basename(rel) == dvcfiles.DVC_YAML:
        raise InvalidInputError(f"path {os.fspath(path)!r} is a registry file, not a model")
    return full, rel


def _check_inside_folder(name: str, rel: str) -> None:
    """A monorepo model's artifact lies inside its folder: its ``dvc.yaml`` declares the path
    relative to that folder, and DVC resolves it there."""
    folder, short = split_name(name)
    if folder is not None and not rel.startswith(f"{folder}/"):
        raise InvalidInputError(
            f"path {rel!r} is not inside {folder}/, the folder of {name} (declared "
            f"in {folder}/{dvcfiles.DVC_YAML}): move the artifact into {folder}/ or register "
            f"it under another name (e.g. {short})"
        )


def _next_version(
    state: ModelState,
    explicit: str | None,
    bump: Bump,
    indexed: list[str] = (),  # type: ignore[assignment]
) -> str:
    """The version a registration takes: ``explicit``, or the next after every version the
    tags *and* the index know (a version proposed with ``register --no-tag`` and merged,
    but not applied yet, is taken too)."""
    taken = state.all_semver() + [Version.parse(v) for v in indexed if is_version(v)]
    if explicit is not None:
        check_version(explicit)
        wanted = Version.parse(explicit)
        clash = next((v for v in taken if v == wanted), None)
        if clash is not None:
            # Build metadata does not order versions, so v1.0.0+b clashes with v1.0.0.
            raise ConflictError(
                f"{state.name} {clash} already exists: pick another version or omit --version"
            )
        return explicit
    if not taken:
        return FIRST_VERSION
    return str(max(taken).bump(bump))


def register(
    repo: GitRepo,
    name: str,
    path: str | os.PathLike[str],
    *,
    metrics: dict[str, float],
    params: dict[str, Scalar],
    description: str | None = None,
    labels: list[str] | None = None,
    bump: Bump = "minor",
    version: str | None = None,
    allow_unchanged: bool = False,
    card: dict[str, Any] | None = None,
    no_tag: bool = False,
    options: WriteOptions = LOCAL,
) -> ModelVersion:
    """Track ``path`` with DVC, index it, commit, and tag ``NAME@vX.Y.Z``.

    ``card`` is the model card summary ``log_model`` wrote; it travels in the tag.  With
    ``no_tag`` the registration is a proposal for a pull request: the pointer and the index
    entry are committed on the current branch (any branch) and no tag is made; with a push
    the bytes go to the DVC remote and the branch to the Git remote.  ``apply`` on the
    registry branch tags it after the merge."""
    check_name(name)
    if version is not None:
        check_version(version)
    full, rel = _artifact_path(repo, path)
    _check_inside_folder(name, rel)
    if repo.is_tracked(rel):
        raise InvalidInputError(
            f"path {rel!r} is tracked by Git: `git rm --cached {rel}` and commit, then register"
        )

    root = repo.root
    dvc_file = dvcfiles.pointer_file(rel)
    dvc_yaml = dvcfiles.dvc_yaml_of(name)
    gitignore = (full.parent / ".gitignore").relative_to(root).as_posix()
    for written in (dvc_file, gitignore, dvc_yaml, INDEX_FILE):
        check_no_links(root, written)
    if full.is_dir():
        hashing.walk(full)  # refuses links out of the folder and special files, before any write
    else:
        os.close(hashing.open_regular(full))

    def body(w: Write) -> ModelVersion:
        state = model_state(repo, name)
        indexed = w.index.version_names(name)
        new_version = _next_version(state, version, bump, indexed)
        tag = TagName(name, EventKind.REGISTER, version=new_version)
        check_tag(format_tag(tag))
        if dvccache.default_layout(root):
            # One read: the md5 recorded is that of the bytes cached.
            digest = dvccache.store(root, full)
        else:
            digest = hashing.digest(full)
        _refuse_unchanged(state, digest.md5, allow_unchanged)
        headline = f"Register {name} {new_version}"
        w.tx.headline = headline  # what a repair after a crash will name
        w.snapshot(root / dvc_file, root / gitignore, root / dvc_yaml)

        if dvccache.default_layout(root):
            dvccache.write_pointer(root, full, rel, digest)
        else:
            dvcio.track(root, full)
        pointer = dvcfiles.parse_pointer((root / dvc_file).read_bytes(), dvc_file)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        record = ArtifactRecord(
            path=rel,
            md5=pointer.md5,
            size=pointer.size if pointer.size is not None else digest.size,
            nfiles=pointer.nfiles,
            metrics=metrics,
            params=params,
            description=description,
            labels=list(labels or []),
            registered_by=str(w.identity),
            registered_at=now,
            card=card,
        )
        op = {"bump": bump, "explicit": version is not None}
        return _index_and_tag(
            w, state, name, new_version, record, options.message, op, gitignore, no_tag=no_tag
        )

    return run_write(repo, body, options, proposal=no_tag)


def _index_and_tag(
    w: Write,
    state: ModelState,
    name: str,
    new_version: str,
    record: ArtifactRecord,
    message: str | None,
    op: dict[str, Any],
    gitignore: str,
    *,
    no_tag: bool = False,
) -> ModelVersion:
    """The part of a registration after the pointer is written: the index entry, dvc.yaml,
    the commit and the tag (none with ``no_tag``).  ``record``'s description and labels, when
    set, replace the model's; otherwise the model's current ones are recorded."""
    root = w.repo.root
    rel = record.path
    tag = TagName(name, EventKind.REGISTER, version=new_version)
    headline = f"Register {name} {new_version}"
    head = w.index.head(name)
    describe(head, record)
    head.deprecated = False
    record = dataclasses.replace(record, description=head.description, labels=head.labels)
    w.index.add_version(name, head, new_version, version_entry(format_tag(tag), record))
    dvcfiles.update_dvc_yaml(root, name, rel, head.description, head.labels)
    w.save_index()
    dvc_file = dvcfiles.pointer_file(rel)
    paths = [INDEX_FILE, dvcfiles.dvc_yaml_of(name), dvc_file]
    if (root / gitignore).exists():
        paths.append(gitignore)
    full_op = {
        **op,
        "op": "register",
        "name": name,
        "version": new_version,
        "path": rel,
        "tag": format_tag(tag),
    }
    if no_tag:
        full_op["op"] = "propose-register"
        headline = f"Propose {name} {new_version}"
    commit = w.commit(paths, compose(headline, message), full_op)
    if no_tag:
        return ModelVersion(
            name=name,
            version=new_version,
            tag="",
            commit=commit,
            registered_at=record.registered_at,
            registered_by=record.registered_by,
            path=rel,
            md5=record.md5,
            size=record.size,
            metrics=record.metrics,
            params=record.params,
            message=message or "",
            card=record.card,
        )
    if commit in state.by_commit:
        # GTO's invariant: a commit carries at most one version of a model.
        raise ConflictError(
            f"commit {commit[:12]} already holds {name} {state.by_commit[commit]}: "
            "change the artifact or the index before registering again"
        )
    created = w.tag(tag, commit, compose(headline, message, record), state)
    return version_record(state.with_tag(created), new_version)


def register_again(
    repo: GitRepo,
    record: ArtifactRecord,
    name: str,
    pointer_text: bytes,
    wanted: str,
    *,
    bump: Bump,
    explicit: bool,
    options: WriteOptions,
) -> ModelVersion:
    """Redo an unpublished registration on a new tip: the same bytes (already in the local
    cache), pointer and record (its original time and author), as ``wanted`` if that
    version is still free, else as the next free version."""
    root = repo.root
    rel = record.path
    dvc_file = dvcfiles.pointer_file(rel)
    dvc_yaml = dvcfiles.dvc_yaml_of(name)
    gitignore = posixpath.join(posixpath.dirname(rel), ".gitignore").lstrip("/")
    _check_inside_folder(name, rel)
    for written in (dvc_file, gitignore, dvc_yaml, INDEX_FILE):
        check_no_links(root, written)

    def body(w: Write) -> ModelVersion:
        state = model_state(repo, name)
        taken = state.all_semver()
        new_version = wanted
        if any(v == Version.parse(wanted) for v in taken) or (
            not explicit and taken and Version.parse(wanted) < max(taken)
        ):
            new_version = _next_version(state, None, bump)
        check_tag(format_tag(TagName(name, EventKind.REGISTER, version=new_version)))
        w.tx.headline = f"Register {name} {new_version}"
        w.snapshot(root / dvc_file, root / gitignore, root / dvc_yaml)
        write_atomic(root / dvc_file, pointer_text)
        dvccache.ignore(root / posixpath.dirname(rel), posixpath.basename(rel))
        op = options.trailer({"bump": bump, "explicit": explicit})
        return _index_and_tag(w, state, name, new_version, record, options.message, op, gitignore)

    return run_write(repo, body, options)


def _refuse_unchanged(state: ModelState, md5: str, allow: bool) -> None:
    latest = state.latest()
    if allow or latest is None:
        return
    tag = state.versions[latest].tag
    record = parse_record(tag.message) if tag else None
    if record is not None and record.md5 == md5:
        raise ConflictError(
            f"the artifact is byte-identical to {state.name} {latest}: "
            "change it, or pass --allow-unchanged to register it again"
        )


# -- index -------------------------------------------------------------------------------


def rebuild_index(repo: GitRepo, *, options: WriteOptions = LOCAL) -> RebuiltIndex:
    """Rewrite ``registry.yaml`` from the tags alone (keeping stages and policies)."""

    def body(w: Write) -> RebuiltIndex:
        old = _salvage(repo.root)
        states = all_states(repo)
        chosen, added = discover_stages(repo, states, old.stages)
        if added:
            log.warning(f"added stages used by tags: {', '.join(added)}")
        current = repo.head_ref().removeprefix("refs/heads/")
        branch = old.branch or (None if current == "HEAD" else current)
        fresh = Index(branch=branch, stages=chosen, policy=old.policy)
        for name, state in states.items():
            fresh.models[name] = entry_from_state(state, old.models.get(name))
        w.snapshot(repo.root / INDEX_FILE)
        write_index(repo.root, fresh, with_modeline(w.index.preamble))
        commit = w.commit(
            [INDEX_FILE],
            compose("Rebuild registry index from tags", options.message),
            options.trailer({"op": "rebuild"}),
        )
        return RebuiltIndex(
            path=str(repo.root / INDEX_FILE),
            models=len(fresh.models),
            versions=sum(len(m.versions) for m in fresh.models.values()),
            stages=list(fresh.stages),
            added_stages=list(added),
            commit=commit,
        )

    return run_write(repo, body, options, need_index=False)


def _salvage(root: Path) -> Index:
    """What ``index rebuild`` keeps of the current ``registry.yaml``: all of it when it
    parses; otherwise the ``stages:`` and ``policy:`` it can still read (the models are
    rebuilt from the tags anyway), saying what was dropped.  The recovery tool must work on
    exactly the file every other command refuses."""
    from modelreg.errors import InvalidIndexError
    from modelreg.index.parse import parse_header

    try:
        return load_index(root) or Index()
    except InvalidIndexError as e:
        reason = f"{e.where}: {e.problem}"
    raw = (root / INDEX_FILE).read_bytes().decode("utf-8", "replace")
    header = parse_header(raw)
    kept = "stages and policy" if header is not None else "nothing"
    log.warning(f"{reason}; rebuilt the models from the tags and kept {kept} of the old file")
    return header or Index()


def discover_stages(
    repo: GitRepo, states: dict[str, ModelState], wanted: list[str] | None
) -> tuple[list[str], list[str]]:
    """The stage list for an index of these tags: ``wanted`` (or ``.gto``'s ``stages:``, or
    the defaults when no tag uses a stage) plus every stage the tags use that it lacks, in
    ``.gto``'s order when it lists them, else by first use.  Returns it and what was added."""
    events = sorted(
        (e for state in states.values() for e in state.events if e.parsed.stage),
        key=lambda e: (e.raw.timestamp, e.parsed.counter or 0),
    )
    used: list[str] = []
    for event in events:
        assert event.parsed.stage is not None
        if event.parsed.stage not in used:
            used.append(event.parsed.stage)
    gto_order = _gto_stages(repo.root)
    base = list(wanted) if wanted is not None else (gto_order or ([] if used else None))
    if base is None:
        return list(DEFAULT_STAGES), []
    order = {s: i for i, s in enumerate(gto_order or [])}
    missing = sorted(
        (s for s in used if s not in base), key=lambda s: (order.get(s, len(order)), used.index(s))
    )
    return base + missing, missing


def _gto_stages(root: Path) -> list[str] | None:
    """The ``stages:`` of GTO's ``.gto`` config, when it has valid ones."""
    import yaml

    try:
        data = yamlio.load((root / ".gto").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    stages = data.get("stages") if isinstance(data, dict) else None
    if isinstance(stages, list) and all(isinstance(s, str) and is_name(s) for s in stages):
        return list(dict.fromkeys(stages))
    return None
