"""The public Python API: :class:`Registry`, a façade over the read and write use cases.

It returns records and never prints.  The CLI is one client of it; a notebook is another.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelreg import queries
from modelreg.errors import NotARegistryError
from modelreg.gitrepo import GitRepo, TagReader, redact
from modelreg.grammar import Reference, parse_reference, tag_patterns
from modelreg.index_header import INDEX_FILE
from modelreg.records import (
    AppliedChange,
    Comparison,
    Event,
    ModelDetail,
    ModelSummary,
    ModelVersion,
    StageChange,
    StageSpan,
)
from modelreg.semver import Bump

if TYPE_CHECKING:
    from modelreg.checks import Report
    from modelreg.index import Index


def _is_bare(path: str) -> bool:
    """Whether ``path`` is a bare Git repository (cheap: its layout, no git call)."""
    folder = Path(path)
    return (
        (folder / "HEAD").is_file()
        and (folder / "objects").is_dir()
        and (folder / "refs").is_dir()
        and not (folder / ".git").exists()
    )


class Registry:
    """A model registry in a Git repository.

    ``Registry(".")`` opens the repository that contains the current folder.  Relative
    artifact paths given to :meth:`register` are read against the repository root.
    """

    def __init__(self, repo: str | os.PathLike[str] = ".") -> None:
        from modelreg.remote import check_location, is_url

        text = os.fspath(repo)
        check_location(text)  # before git ever sees it: '--upload-pack=…' is not a URL
        if not is_url(text) and _is_bare(text):
            # A bare repository (a remote's folder) has no working tree: read it as a URL.
            text = Path(text).resolve().as_uri()
        self._url = text if is_url(text) else None
        self._local = None if self._url else GitRepo.discover(repo)

    @property
    def is_remote(self) -> bool:
        """Whether this registry was opened by URL (read-only, no clone)."""
        return self._local is None

    @property
    def root(self) -> Path:
        """The repository's top-level folder."""
        return self._git.root

    @property
    def _git(self) -> GitRepo:
        """The local clone; a registry opened by URL is read-only."""
        if self._local is None:
            shown = redact(self._url or "")
            raise NotARegistryError(
                f"{shown} is a remote registry: clone it (`git clone {shown}`) to write"
            )
        return self._local

    @property
    def _writable(self) -> GitRepo:
        """The clone, made a registry first if it is not one yet (``init``, said in the log).

        A repository whose last commit has a ``registry.yaml`` the working tree lacks is not
        new: the write reports the missing file instead of starting over.
        """
        repo = self._git
        if not (repo.root / INDEX_FILE).exists() and repo.show_file("HEAD", INDEX_FILE) is None:
            import logging

            from modelreg import operations

            operations.init(repo, None, None)
            logging.getLogger("modelreg").warning(
                f"{repo.root} had no {INDEX_FILE}: ran `modelreg init` first (see `stages:` "
                f"in {INDEX_FILE} for the promotion order)"
            )
        return repo

    def _reader(self, name: str | None = None, *, names_only: bool = False) -> TagReader:
        """Where a read query gets its tags: the clone, ``ls-remote``, or a cached mirror."""
        if self._local is not None:
            # transaction.pending, without importing the write machinery on the read path.
            journal = self._local.root / ".git" / "modelreg-write"
            if journal.is_dir():
                # The tags are the truth either way: the read answers from them.
                import logging

                logging.getLogger("modelreg").warning(
                    "an interrupted modelreg write is pending repair: the next write "
                    "completes or undoes it"
                )
            return self._local
        from modelreg import remote

        assert self._url is not None
        patterns = tag_patterns(name) if name else ["refs/tags/*"]
        if names_only and name is not None:
            reader = remote.LsRemoteReader(self._url)
            if remote.names_decide(reader.tags(patterns)):
                return reader
        return remote.mirror(self._url, patterns)

    # -- reads -----------------------------------------------------------------------------

    def _stages(self) -> list[str] | None:
        """The registry's stages when a local ``registry.yaml`` names them (header only)."""
        if self._local is None or not (self._local.root / "registry.yaml").is_file():
            return None
        from modelreg.index_header import read_stage_order

        return list(read_stage_order(self._local.root))

    def which(self, name: str, stage: str) -> ModelVersion:
        """The version that holds ``stage``; :class:`NotFoundError` when none does."""
        return queries.which(self._reader(name), name, stage, self._stages)

    def which_version(self, name: str, stage: str) -> str:
        """Just the version string of :meth:`which`; by URL this needs only ``ls-remote``."""
        reader = self._reader(name, names_only=True)
        return queries.which(reader, name, stage, self._stages).version

    def latest(self, name: str) -> ModelVersion:
        """The greatest active version of ``name``."""
        return queries.latest(self._reader(name), name)

    def latest_version(self, name: str) -> str:
        """Just the version string of :meth:`latest`; by URL this needs only ``ls-remote``."""
        return queries.latest(self._reader(name, names_only=True), name).version

    def resolve(self, ref: str | Reference) -> ModelVersion:
        """The version a reference (``churn#production``, ``churn@v1.2.0``…) names."""
        parsed = parse_reference(ref) if isinstance(ref, str) else ref
        reader = self._reader(parsed.model)
        return queries.with_artifact(reader, queries.resolve(reader, parsed))

    def show(self, name: str) -> ModelDetail:
        """Every version of a model with metrics and stage holders."""
        return queries.show_model(self._reader(name), name)

    def list_models(self) -> list[ModelSummary]:
        """One summary per model in the registry."""
        return queries.list_models(self._reader())

    def history(self, name: str | None = None) -> list[Event]:
        """The audit log, newest first."""
        return queries.history(self._reader(name), name)

    def compare(self, name: str, a: str, b: str) -> Comparison:
        """Two versions side by side."""
        return queries.compare(self._reader(name), name, a, b)

    def stage_timeline(self, name: str | None = None) -> list[StageSpan]:
        """Which version held each stage over time (every model when ``name`` is omitted),
        oldest first: one :class:`StageSpan` per uninterrupted hold."""
        return queries.stage_timeline(self._reader(name), name)

    def get(
        self,
        ref: str,
        out: str | os.PathLike[str] | None = None,
        *,
        force: bool = False,
        progress: Callable[[int, int | None], None] | None = None,
        dvc_remote: str | None = None,
    ) -> Path:
        """Write the verified bytes of ``ref``'s artifact to ``out``; return the path.

        ``out`` an existing folder (or a path ending in ``/``) receives the artifact inside
        it, as ``cp`` does.  An existing destination is refused unless ``force``, which
        replaces an artifact of the same kind (file or folder) atomically.  ``progress`` is
        called with each chunk's size in bytes as it arrives, and the artifact's recorded
        total size (``None`` when unknown).

        The bytes come from ``dvc_remote`` (a URL or folder) when given, else from
        ``$MODELREG_DVC_REMOTE`` when set, else from the registry's DVC remote: the clone's
        ``.dvc`` config, or by URL the one configured on the registry's default branch.
        """
        from modelreg import artifacts, remote

        parsed = parse_reference(ref)
        reader = self._reader(parsed.model)
        mv = queries.with_artifact(reader, queries.resolve(reader, parsed))
        pinned = dvc_remote or os.environ.get(remote.DVC_REMOTE_ENV) or None
        if self._local is not None and pinned is None:
            return artifacts.get(self._local, mv, out, force=force, sized_progress=progress)
        # By URL the DVC remote is never the tagged commit's: its author may not be trusted.
        repo = self._local if self._local is not None else reader
        assert isinstance(repo, GitRepo)
        return remote.get_artifact(repo, mv, out, pinned, force=force, sized_progress=progress)

    # -- writes ----------------------------------------------------------------------------

    def init(
        self,
        *,
        stages: list[str] | None = None,
        remote: str | None = None,
        remote_config: dict[str, str] | None = None,
        message: str | None = None,
        push: str | None = None,
    ) -> Path:
        """Make this repository a registry (``dvc init`` if needed, ``registry.yaml``).

        ``remote`` becomes the default DVC remote; ``remote_config`` sets its options
        (``endpointurl``…), with credentials kept in the uncommitted ``.dvc/config.local``.
        """
        from modelreg import operations

        return operations.init(self._git, stages, remote, remote_config, message=message, push=push)

    def register(
        self,
        name: str,
        path: str | os.PathLike[str],
        *,
        metrics: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        description: str | None = None,
        labels: list[str] | None = None,
        bump: Bump = "minor",
        version: str | None = None,
        message: str | None = None,
        allow_unchanged: bool = False,
        push: str | None = None,
        card: dict[str, Any] | None = None,
        no_tag: bool = False,
    ) -> ModelVersion:
        """Register the artifact at ``path`` as the next version of ``name``; with
        ``no_tag``, propose it for a pull request instead (``apply`` tags it after the
        merge)."""
        from modelreg import operations
        from modelreg.values import metrics_from, params_from

        return operations.register(
            self._writable,
            name,
            path,
            metrics=metrics_from(metrics),
            params=params_from(params),
            description=description,
            labels=labels,
            bump=bump,
            version=version,
            message=message,
            allow_unchanged=allow_unchanged,
            push=push,
            card=card,
            no_tag=no_tag,
        )

    def promote(
        self,
        name: str,
        version: str,
        stage: str,
        *,
        message: str | None = None,
        force: bool = False,
        push: str | None = None,
    ) -> StageChange:
        """Assign ``stage`` to ``version``."""
        from modelreg import stages

        return stages.promote(
            self._writable, name, version, stage, message=message, force=force, push=push
        )

    def demote(
        self,
        name: str,
        stage: str,
        *,
        message: str | None = None,
        push: str | None = None,
        force: bool = False,
    ) -> StageChange:
        """Unassign the current holder of ``stage`` (``force`` overrides ``allow_empty``)."""
        from modelreg import stages

        return stages.demote(self._writable, name, stage, message=message, push=push, force=force)

    def propose(
        self,
        name: str,
        version: str,
        stage: str,
        *,
        branch: str | None = None,
        message: str | None = None,
        force: bool = False,
    ) -> str:
        """Edit only the desired stage in ``registry.yaml`` for a pull request (``promote
        --no-tag``); with ``branch``, commit it there.  Returns the file or the commit."""
        from modelreg import stages

        return stages.propose(
            self._git, name, version, stage, branch=branch, message=message, force=force
        )

    def check(self, *, remote: bool = False, verify: bool = False, strict: bool = False) -> Report:
        """Validate ``registry.yaml`` against the schema, the tags and the policies.

        ``remote`` also checks that every indexed artifact is in the DVC remote; with
        ``verify`` its bytes are downloaded and re-hashed too.  Drifted stages are listed in
        the report; ``strict`` makes them fail it."""
        from modelreg import checks

        return checks.check(self._git, remote=remote or verify, verify=verify, strict=strict)

    def apply(
        self,
        *,
        dry_run: bool = False,
        message: str | None = None,
        push: str | None = None,
        adopt: bool = False,
        revert: bool = False,
    ) -> list[AppliedChange]:
        """Create the tags that make the stages match the committed ``registry.yaml``.

        Drifted stages (tags moved after the file last set them) are refused unless
        ``adopt`` (record the tags' state in the file) or ``revert`` (tags follow the file)."""
        from modelreg import stages

        return stages.apply(
            self._git, dry_run=dry_run, message=message, push=push, adopt=adopt, revert=revert
        )

    def rollback(
        self,
        name: str,
        stage: str,
        *,
        to: str | None = None,
        message: str | None = None,
        push: str | None = None,
        force: bool = False,
    ) -> StageChange:
        """Give ``stage`` back to its previous holder (or to ``to``); the stage's policy
        applies (``force`` overrides it, recorded in the tag)."""
        from modelreg import stages

        return stages.rollback(
            self._writable, name, stage, to=to, message=message, push=push, force=force
        )

    def deprecate(
        self,
        name: str,
        version: str | None = None,
        *,
        message: str | None = None,
        push: str | None = None,
    ) -> str:
        """Deregister one version, or deprecate the whole model; returns the tag."""
        from modelreg import stages

        return stages.deprecate(self._writable, name, version, message=message, push=push)

    def rebuild_index(self, *, message: str | None = None, push: str | None = None) -> Index:
        """Rewrite ``registry.yaml`` from the tags."""
        from modelreg import operations

        return operations.rebuild_index(self._git, message=message, push=push)

    def push(self, remote: str = "origin") -> list[str]:
        """Publish local registry tags the remote lacks: artifact bytes first, then one atomic
        Git push of the branch and the tags.  Returns the tags pushed."""
        from modelreg import writer

        return writer.push(self._git, remote)
