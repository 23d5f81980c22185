"""The public Python API: :class:`Registry`, a façade over the read and write use cases.

It returns records and never prints.  The CLI is one client of it; a notebook is another.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from modelreg import queries
from modelreg.errors import InvalidInputError, NotARegistryError
from modelreg.gitrepo import GitRepo, TagReader, redact
from modelreg.grammar import Reference, parse_reference, tag_patterns
from modelreg.semver import Bump
from modelreg.timespec import instant, shown

if TYPE_CHECKING:
    from modelreg.checks import Report
    from modelreg.records import (
        AppliedChange,
        Comparison,
        Event,
        ModelDetail,
        ModelSummary,
        ModelVersion,
        Proposal,
        RebuiltIndex,
        SearchRow,
        StageChange,
        StageSpan,
    )
    from modelreg.registration import DvcRemoteChange
    from modelreg.writer import WriteOptions


T = TypeVar("T")


def _renamed(method: str, old: str, new: str, old_value: T | None, new_value: T | None) -> T | None:
    """The value of a keyword argument that was renamed: the old spelling still works, with
    a :class:`DeprecationWarning`; both spellings with different values are refused."""
    if old_value is None:
        return new_value
    import warnings

    warnings.warn(
        f"Registry.{method}({old}=...) is deprecated: use {new}=...",
        DeprecationWarning,
        stacklevel=3,
    )
    if new_value is not None and new_value != old_value:
        raise InvalidInputError(
            f"Registry.{method}() got {old}={old_value!r} and {new}={new_value!r}: pass only {new}="
        )
    return old_value


def _write_options(message: str | None = None, push: str | None = None) -> WriteOptions:
    """What every write method passes down: the user's note, the Git remote to publish to,
    and how a push redoes this clone's overtaken writes (the write machinery below cannot
    import the commands that made them)."""
    from modelreg import redo
    from modelreg.writer import WriteOptions

    return WriteOptions(message=message, push=push, redo=redo.run)


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
        return self._clone("to write")

    def _clone(self, purpose: str) -> GitRepo:
        """The local clone, or a one-line error saying a clone is needed ``purpose``."""
        if self._local is None:
            shown = redact(self._url or "")
            raise NotARegistryError(
                f"{shown} is a remote registry: clone it (`git clone {shown}`) {purpose}"
            )
        return self._local

    @property
    def _writable(self) -> GitRepo:
        """The clone, made a registry first if it is not one yet (``init``, said in the log).

        A repository whose last commit has a ``registry.yaml`` the working tree lacks is not
        new: the write reports the missing file instead of starting over.
        """
        from modelreg.index.header import INDEX_FILE

        repo = self._git
        if not (repo.root / INDEX_FILE).exists() and repo.show_file("HEAD", INDEX_FILE) is None:
            import logging

            from modelreg import registration

            registration.init(repo, None, None)
            logging.getLogger("modelreg").warning(
                f"{repo.root} had no {INDEX_FILE}: ran `modelreg init` first (see `stages:` "
                f"in {INDEX_FILE} for the promotion order)"
            )
        return repo

    @property
    def is_initialized(self) -> bool:
        """Whether this clone is a registry already (it has ``registry.yaml``)."""
        from modelreg.index.header import INDEX_FILE

        return (self._git.root / INDEX_FILE).is_file()

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
            return remote.mirror(self._url, patterns, listed=reader.refs(patterns))
        return remote.mirror(self._url, patterns)

    # -- reads -----------------------------------------------------------------------------

    def _stages(self) -> list[str] | None:
        """The registry's stages when a local ``registry.yaml`` names them (header only)."""
        if self._local is None or not (self._local.root / "registry.yaml").is_file():
            return None
        from modelreg.index.header import read_stage_order

        return list(read_stage_order(self._local.root))

    def stage_order(self) -> list[str]:
        """The registry's stages in promotion order: ``stages:`` in ``registry.yaml``, else
        (and for a registry read by URL) dev, staging, production."""
        from modelreg.index.header import DEFAULT_STAGES, read_stage_order

        if self._local is None:
            return list(DEFAULT_STAGES)
        return read_stage_order(self._local.root)

    def _in_order(self, stages: Iterable[str]) -> list[str]:
        """``stages`` in promotion order, unknown ones after it alphabetically."""
        names = list(stages)
        if len(names) < 2:
            return names  # nothing to order: no need to read registry.yaml
        from modelreg.index.header import in_promotion_order

        return in_promotion_order(names, self.stage_order())

    def _ordered(self, mv: ModelVersion) -> ModelVersion:
        if len(mv.stages) < 2:
            return mv
        return dataclasses.replace(mv, stages=self._in_order(mv.stages))

    def _ordered_map(self, holders: dict[str, str]) -> dict[str, str]:
        return {stage: holders[stage] for stage in self._in_order(holders)}

    def model_names(self) -> list[str]:
        """The names of every model with tags, sorted (names only: no tag message is read)."""
        return queries.model_names(self._reader())

    def which(self, name: str, stage: str, *, at: datetime | str | None = None) -> ModelVersion:
        """The version that holds ``stage``, or that held it at ``at`` (a ``datetime``,
        naive meaning UTC, or text such as ``2026-11-20T10:02``; events dated exactly then
        count); :class:`NotFoundError` when none does."""
        when = None if at is None else instant(at, "at")
        reader = self._reader(name)
        return self._ordered(queries.which(reader, name, stage, self._stages, at=when))

    def which_version(self, name: str, stage: str, *, at: datetime | str | None = None) -> str:
        """Just the version string of :meth:`which`; by URL this needs only ``ls-remote``
        (with ``at``, the tags' dates: their objects are fetched)."""
        when = None if at is None else instant(at, "at")
        reader = self._reader(name, names_only=when is None)
        return queries.which(reader, name, stage, self._stages, at=when).version

    def latest(self, name: str) -> ModelVersion:
        """The greatest active version of ``name``."""
        return self._ordered(queries.latest(self._reader(name), name))

    def latest_version(self, name: str) -> str:
        """Just the version string of :meth:`latest`; by URL this needs only ``ls-remote``."""
        return queries.latest(self._reader(name, names_only=True), name).version

    def resolve(self, ref: str | Reference) -> ModelVersion:
        """The version a reference (``churn#production``, ``churn@v1.2.0``…) names."""
        parsed = parse_reference(ref) if isinstance(ref, str) else ref
        reader = self._reader(parsed.model)
        return self._ordered(queries.with_artifact(reader, queries.resolve(reader, parsed)))

    def show(self, name: str) -> ModelDetail:
        """Every version of a model with metrics and stage holders (stages in promotion
        order)."""
        detail = queries.show_model(self._reader(name), name)
        return dataclasses.replace(
            detail,
            stages=self._ordered_map(detail.stages),
            versions=[self._ordered(v) for v in detail.versions],
        )

    def list_models(self, *, at: datetime | str | None = None) -> list[ModelSummary]:
        """One summary per model in the registry (stages in promotion order), or as it was at
        ``at`` (see :meth:`which`)."""
        when = None if at is None else instant(at, "at")
        return [
            dataclasses.replace(row, stages=self._ordered_map(row.stages))
            for row in queries.list_models(self._reader(), at=when)
        ]

    def history(
        self,
        name: str | None = None,
        *,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
    ) -> list[Event]:
        """The audit log, newest first; ``since``/``until`` keep the events dated between
        them, both included (``datetime`` or text, as for :meth:`which`)."""
        low = None if since is None else instant(since, "since")
        high = None if until is None else instant(until, "until")
        if low is not None and high is not None and low > high:
            raise InvalidInputError(
                f"since {shown(low)} is after until {shown(high)}: nothing is in between; swap them"
            )
        return queries.history(self._reader(name), name, since=low, until=high)

    def search(self, expr: str) -> list[SearchRow]:
        """The active versions of every model that match ``expr`` (``accuracy>=0.9
        label=tabular stage=production registered>2026-10-01``; see :mod:`modelreg.search`),
        by model, newest version first.  A malformed term is an :class:`InvalidInputError`
        naming it."""
        from modelreg import search

        query = search.parse(expr)  # a bad term fails before the registry is read
        return query.select(queries.search_rows(self._reader()))

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
        dvc_remote: str | None = None,
        remote_config: dict[str, str] | None = None,
        message: str | None = None,
        push: str | None = None,
        remote: str | None = None,
    ) -> Path:
        """Make this repository a registry (``dvc init`` if needed, ``registry.yaml``).

        ``dvc_remote`` (a folder or URL) becomes the default DVC remote; ``remote_config``
        sets its options (``endpointurl``…), with credentials kept in the uncommitted
        ``.dvc/config.local``.  ``push`` names the Git remote to push the commit to.
        ``remote`` is the deprecated spelling of ``dvc_remote``.
        """
        from modelreg import registration

        dvc_remote = _renamed("init", "remote", "dvc_remote", remote, dvc_remote)
        return registration.init(
            self._git, stages, dvc_remote, remote_config, options=_write_options(message, push)
        )

    def set_dvc_remote(
        self,
        url: str,
        *,
        remote_config: dict[str, str] | None = None,
        message: str | None = None,
        push: str | None = None,
    ) -> DvcRemoteChange:
        """Set or change the default DVC remote of an existing registry, as a write: the
        new ``.dvc/config`` is committed (``message`` is added to the commit message) and,
        with ``push``, published.  Its options are replaced by ``remote_config``
        (credentials go to the uncommitted ``.dvc/config.local``).  Bytes pushed from now
        on go to ``url``; those already in the old remote stay there."""
        from modelreg import registration

        return registration.set_dvc_remote(
            self._git, url, remote_config, options=_write_options(message, push)
        )

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
        from modelreg import registration
        from modelreg.values import metrics_from, params_from

        return registration.register(
            self._writable,
            name,
            path,
            metrics=metrics_from(metrics),
            params=params_from(params),
            description=description,
            labels=labels,
            bump=bump,
            version=version,
            allow_unchanged=allow_unchanged,
            card=card,
            no_tag=no_tag,
            options=_write_options(message, push),
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
        from modelreg import promotion

        return promotion.promote(
            self._writable, name, version, stage, force=force, options=_write_options(message, push)
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
        from modelreg import promotion

        return promotion.demote(
            self._writable, name, stage, force=force, options=_write_options(message, push)
        )

    def propose(
        self,
        name: str,
        version: str,
        stage: str,
        *,
        branch: str | None = None,
        message: str | None = None,
        force: bool = False,
    ) -> Proposal:
        """Edit only the desired stage in ``registry.yaml`` for a pull request (``promote
        --no-tag``); with ``branch``, commit it there instead, touching nothing else."""
        from modelreg import promotion

        return promotion.propose(
            self._git, name, version, stage, branch=branch, message=message, force=force
        )

    def check(
        self,
        *,
        verify_remote: bool = False,
        verify: bool = False,
        strict: bool = False,
        remote: bool | None = None,
    ) -> Report:
        """Validate ``registry.yaml`` against the schema, the tags and the policies.

        ``verify_remote`` also checks that every indexed artifact is in the DVC remote; with
        ``verify`` its bytes are downloaded and re-hashed too.  Drifted stages are listed in
        the report; ``strict`` makes them fail it.  ``remote`` is the deprecated spelling of
        ``verify_remote``."""
        from modelreg import checks

        in_remote = _renamed("check", "remote", "verify_remote", remote, verify_remote or None)
        repo = self._clone("and run `modelreg check` there (it reads the clone's registry.yaml)")
        return checks.check(repo, remote=bool(in_remote) or verify, verify=verify, strict=strict)

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
        from modelreg import applying

        return applying.apply(
            self._git,
            dry_run=dry_run,
            adopt=adopt,
            revert=revert,
            options=_write_options(message, push),
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
        from modelreg import promotion

        return promotion.rollback(
            self._writable, name, stage, to=to, force=force, options=_write_options(message, push)
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
        from modelreg import promotion

        return promotion.deprecate(
            self._writable, name, version, options=_write_options(message, push)
        )

    def rebuild_index(self, *, message: str | None = None, push: str | None = None) -> RebuiltIndex:
        """Rewrite ``registry.yaml`` from the tags; returns what it wrote."""
        from modelreg import registration

        return registration.rebuild_index(self._git, options=_write_options(message, push))

    def push(self, git_remote: str | None = None, *, remote: str | None = None) -> list[str]:
        """Publish local registry tags the Git remote ``git_remote`` (default ``origin``)
        lacks: artifact bytes first (to the DVC remote), then one atomic Git push of the
        branch and the tags.  Returns the tags pushed.  ``remote`` is the deprecated
        spelling of ``git_remote``."""
        from modelreg import writer

        chosen = _renamed("push", "remote", "git_remote", remote, git_remote)
        return writer.push(self._git, _write_options(push=chosen or "origin"))
