"""The notebook workflow: ``log_model`` and ``load_model``.

``log_model`` serializes a model into its artifact folder ``models/<name>/`` (the model file
and a ``model.yaml`` card) and registers that folder through the same path as
``modelreg register``.  ``load_model`` resolves a reference, fetches the artifact (local DVC
cache first, then the DVC remote), verifies its md5, and only then deserializes it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelreg.errors import InvalidInputError
from modelreg.records import ModelVersion


class LibraryVersionWarning(UserWarning):
    """A model is loaded with library versions other than those it was saved with."""


def _artifact_folder(root: Path, name: str) -> Path:
    return root / "models" / name


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
    """Serialize ``model`` with its card into ``models/<name>/`` and register it."""
    import yaml

    from modelreg import card, flavors
    from modelreg.grammar import check_name
    from modelreg.registry import Registry
    from modelreg.values import metrics_from, params_from

    check_name(name)
    chosen = flavors.detect(model, flavor)
    metric_values = metrics_from(metrics)
    param_values = params_from(params)
    reg = Registry(repo)
    folder = _artifact_folder(reg.root, name)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        saved = flavors.save(model, chosen, staging)
        summary: dict[str, Any] = {
            "flavor": chosen,
            "file": saved.file,
            "libraries": saved.libraries,
            "python": card.python_version(),
            "signature": card.infer_signature(input_example),
            "trusted_types": saved.trusted_types,
        }
        full = {**summary, "metrics": metric_values, "params": param_values}
        (staging / card.CARD_FILE).write_text(
            yaml.safe_dump(full, sort_keys=False), encoding="utf-8"
        )
        # The folder holds exactly one version's files: the previous model is replaced.
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return reg.register(
        name,
        folder,
        metrics=metric_values,
        params=param_values,
        description=description,
        labels=labels,
        push="origin" if push else None,
        card=summary,
    )


def load_model(ref: str, *, repo: str | os.PathLike[str] = ".") -> Any:
    """Fetch ``ref``'s artifact, verify its md5, then deserialize it with its flavor.

    An artifact without a model card (registered with ``modelreg register``) is returned as
    the local path of its verified copy.
    """
    import yaml

    from modelreg import flavors
    from modelreg.cache import cache_dir
    from modelreg.registry import Registry

    reg = Registry(repo)
    mv = reg.resolve(ref)
    if mv.md5 is None or mv.path is None:
        raise InvalidInputError(f"{mv.name} {mv.version} has no DVC-tracked artifact to load")
    target = cache_dir("artifacts") / mv.md5.replace(".dir", "") / Path(mv.path).name
    target.parent.mkdir(parents=True, exist_ok=True)
    # By exact version: a stage could move between resolving and fetching.
    local = reg.get(f"{mv.name}@{mv.version}", out=target)
    card_path = local / "model.yaml" if local.is_dir() else None
    if card_path is None or not card_path.exists():
        return local
    card = yaml.safe_load(card_path.read_text(encoding="utf-8")) or {}
    _warn_on_version_drift(mv, card)
    return flavors.load(local, card)


def _warn_on_version_drift(mv: ModelVersion, card: dict[str, Any]) -> None:
    from modelreg.card import library_versions

    saved = card.get("libraries") or {}
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
