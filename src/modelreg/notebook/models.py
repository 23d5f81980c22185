"""The notebook workflow: ``log_model`` and ``load_model``.

``log_model`` serializes a model into its artifact folder ``models/<name>/`` (the model file
and a ``model.yaml`` card; ``dir/sub/models/<name>/`` for a monorepo model ``dir/sub:<name>``)
and registers that folder through the same path as ``modelreg register``.  ``load_model``
resolves a reference, fetches the artifact (local DVC cache first, then the DVC remote),
verifies its md5, and only then deserializes it.

Anyone who can register a version writes its artifact and card, so the card only says how
the model was saved; what may run or be trusted on load is the caller's decision
(``trusted``, ``allow_pickle``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelreg import leftovers
from modelreg.errors import InvalidInputError
from modelreg.records import ModelVersion
from modelreg.untrusted import artifact_name, check_md5, check_no_links

if TYPE_CHECKING:
    from modelreg.notebook.card import Card


class LibraryVersionWarning(UserWarning):
    """A model is loaded with library versions other than those it was saved with."""


def _artifact_folder(root: Path, name: str) -> Path:
    """``models/<name>`` below ``root`` (below ``root/dir/sub`` for ``dir/sub:<name>``: a
    monorepo model's artifact lies in its folder), refusing any symbolic link on the way.

    log_model replaces this folder (``rmtree``); a clone can carry a committed link
    (``models -> ../elsewhere``, ``models/<name> -> /somewhere``) that would make that
    write and delete happen outside the repository.  Checked before anything is created.
    """
    from modelreg.grammar import split_name

    folder, short = split_name(name)
    rel = f"{folder}/models/{short}" if folder else f"models/{short}"
    check_no_links(root, rel)
    return root / rel


def log_model(
    model: Any,
    name: str,
    *,
    metrics: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    description: str | None = None,
    labels: list[str] | None = None,
    input_example: Any = None,
    flavor: str | None = None,
    push: bool = False,
    repo: str | os.PathLike[str] = ".",
) -> ModelVersion:
    """Serialize ``model`` with its card into ``models/<name>/`` (``dir/sub/models/<name>/``
    for ``dir/sub:<name>``) and register it."""
    from modelreg.grammar import check_name
    from modelreg.notebook import flavors
    from modelreg.registry import Registry
    from modelreg.values import metrics_from, params_from

    check_name(name)
    chosen = flavors.detect(model, flavor)
    metric_values = metrics_from(metrics)
    param_values = params_from(params)
    reg = Registry(repo)
    folder = _artifact_folder(reg.root, name)
    # Every folder this call creates, outermost first, so a failure removes exactly those.
    made = [p for p in (*reversed(folder.parents), folder) if not p.exists()]
    made = [p for p in made if p.is_relative_to(reg.root)]
    folder.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{folder.name}.tmp-"
    leftovers.remove_dead(folder.parent, prefix)
    staging = leftovers.make_dir(folder.parent, prefix)
    backup: Path | None = None
    try:
        summary = _save_with_card(
            model, chosen, staging, input_example, metric_values, param_values
        )
        # The folder holds exactly one version's files: the previous model is set aside
        # until the new one is registered, and comes back if registering fails.
        if folder.exists():
            # _artifact_folder refused links; this guards the swap against a link created
            # since.
            if not folder.resolve().is_relative_to(reg.root.resolve()):
                raise InvalidInputError(
                    f"{folder} is outside the repository {reg.root}: not replacing it"
                )
            backup = leftovers.make_dir(folder.parent, prefix)
            os.replace(folder, backup / folder.name)
        os.replace(staging, folder)
        try:
            registered = reg.register(
                name,
                folder,
                metrics=metric_values,
                params=param_values,
                description=description,
                labels=labels,
                push="origin" if push else None,
                card=summary,
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            if backup is not None:
                os.replace(backup / folder.name, folder)
            for path in reversed(made):
                with contextlib.suppress(OSError):
                    path.rmdir()  # only if empty: never what someone else put there
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    return registered


def _save_with_card(
    model: Any,
    chosen: str,
    staging: Path,
    input_example: Any,
    metric_values: Mapping[str, Any],
    param_values: Mapping[str, Any],
) -> dict[str, Any]:
    """Serialize ``model`` into ``staging`` beside its card; returns the card's summary."""
    import yaml

    from modelreg.notebook import card, flavors

    saved = flavors.save(model, chosen, staging)
    summary: dict[str, Any] = {
        "flavor": chosen,
        "file": saved.file,
        "libraries": saved.libraries,
        "python": card.python_version(),
        "signature": card.infer_signature(input_example),
        "trusted_types": saved.trusted_types,
    }
    full = {**summary, "metrics": dict(metric_values), "params": dict(param_values)}
    (staging / card.CARD_FILE).write_text(yaml.safe_dump(full, sort_keys=False), encoding="utf-8")
    return summary


def load_model(
    ref: str,
    *,
    repo: str | os.PathLike[str] = ".",
    trusted: Iterable[str] = (),
    allow_pickle: bool = False,
) -> Any:
    """Fetch ``ref``'s artifact, verify its md5, then deserialize it with its flavor.

    The caller decides what to trust, never the artifact: skops loads its default types
    plus the type names in ``trusted``, and a pickle (the ``joblib`` flavor) loads only with
    ``allow_pickle=True``.  The card's ``trusted_types`` is ignored.  An artifact without a
    model card (registered with ``modelreg register``) is returned as the local path of its
    verified copy.
    """
    from modelreg.cache import cache_dir
    from modelreg.notebook import card, flavors
    from modelreg.registry import Registry

    trusted_names = _trusted_names(trusted)
    reg = Registry(repo)
    mv = reg.resolve(ref)
    what = f"{mv.name} {mv.version}"
    if mv.md5 is None or mv.path is None:
        raise InvalidInputError(f"{what} has no DVC-tracked artifact to load")
    # Both become parts of a path in the user's cache, and both come from the tag record.
    md5 = check_md5(mv.md5, what)
    leaf = artifact_name(mv.path, what)
    # DVC 2's md5 of CRLF text is DVC 3's md5 of the same text with LF: other bytes, so
    # another folder.
    key = md5.removesuffix(".dir") + ("" if mv.hash_name == "md5" else "-dos2unix")
    target = cache_dir("artifacts") / key / leaf
    target.parent.mkdir(parents=True, exist_ok=True)
    # By exact version: a stage could move between resolving and fetching.  ``force``: the
    # cache may hold this artifact from an earlier load; it is replaced by a verified copy.
    local = reg.get(f"{mv.name}@{mv.version}", out=target, force=True)
    if not local.is_dir() or local.is_symlink():
        return local
    model_card = card.read(local, what)
    if model_card is None:
        return local
    path = card.model_file(local, model_card, what)
    _warn_on_version_drift(mv, model_card)
    return flavors.load(
        path, model_card.flavor, what, trusted=trusted_names, allow_pickle=allow_pickle
    )


def _trusted_names(trusted: Iterable[str]) -> list[str]:
    """``trusted`` as a list of type names; a lone string is a mistake, not a list of letters."""
    if isinstance(trusted, str):
        raise InvalidInputError(
            f"trusted must be a list of type names, not the string {trusted!r}: "
            f"pass trusted=[{trusted!r}]"
        )
    names = list(trusted)
    for item in names:
        if not isinstance(item, str) or not item:
            raise InvalidInputError(
                f"trusted must hold fully qualified type names such as "
                f"'sklearn.tree._tree.Tree', not {item!r}"
            )
    return names


def _warn_on_version_drift(mv: ModelVersion, card: Card) -> None:
    from modelreg.notebook.card import library_versions

    saved = card.libraries
    installed = library_versions(list(saved))
    for lib, version in sorted(saved.items()):
        now = installed.get(lib)
        if now is not None and now != version:
            warnings.warn(
                f"{mv.name} {mv.version} was saved with {lib} {version}; "
                f"this environment has {lib} {now}",
                LibraryVersionWarning,
                stacklevel=3,
            )
