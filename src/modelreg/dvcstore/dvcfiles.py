"""DVC's files, read and written without importing DVC: ``PATH.dvc`` and ``dvc.yaml``.

``dvc.yaml``'s ``artifacts:`` section is what ``dvc artifacts get``, DVC Studio and GTO read to
find a model's path at a tagged commit.  A monorepo model ``dir/sub:name`` is declared as
``name`` in ``dir/sub/dvc.yaml`` with its path relative to ``dir/sub`` (DVC's layout); the
functions here take and return paths relative to the repository root.  ``dvc.yaml`` is edited
with ruamel's round-trip mode so the user's comments and stage definitions survive.
"""

from __future__ import annotations

import io
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelreg.dvcstore.hashing import LEGACY_MD5, MD5
from modelreg.errors import DvcError
from modelreg.grammar import split_name
from modelreg.untrusted import check_md5, check_relpath, check_size, shown

DVC_YAML = "dvc.yaml"
MAX_POINTER_BYTES = 1 << 20
"""A ``.dvc`` file is a few lines; anything this large is not one."""


@dataclass(frozen=True)
class Pointer:
    """The one output a ``.dvc`` file tracks."""

    path: str  # relative to the repository root, POSIX
    md5: str
    size: int | None
    nfiles: int | None
    # ``md5`` for DVC 3's pointers (``hash: md5``); DVC 2's carry no ``hash:`` and mean the
    # legacy ``md5-dos2unix`` (see modelreg.dvcstore.hashing).
    hash_name: str = MD5

    @property
    def is_dir(self) -> bool:
        return self.md5.endswith(".dir")


def pointer_file(path: str) -> str:
    """The ``.dvc`` file that tracks ``path``."""
    return f"{path}.dvc"


def parse_pointer(text: bytes | str, dvc_file: str) -> Pointer:
    """Parse a ``.dvc`` file (``dvc_file`` is its repository-relative path)."""
    import yaml

    if len(text) > MAX_POINTER_BYTES:
        raise DvcError(f"{dvc_file} is too large to be a DVC pointer file: re-run `dvc add`")
    from modelreg.values import expands_beyond, expansion_limit

    try:
        data = yaml.load(text, Loader=_yaml_classes()[0])
        if expands_beyond(data, expansion_limit(str(text))):
            raise ValueError("YAML aliases expand too far")
        out = data["outs"][0]
        md5 = out.get("md5") or out["etag"]
        name = out["path"]
        declared = out.get("hash")
    except (yaml.YAMLError, KeyError, IndexError, TypeError, AttributeError, ValueError) as e:
        raise DvcError(f"{dvc_file} is not a valid DVC pointer file: re-run `dvc add`") from e
    # A pointer in a cloned registry is untrusted: its path must stay beside the pointer and
    # its md5 becomes a cache path.
    what = f"DVC pointer {dvc_file}"
    if declared not in (None, MD5):
        # DVC 3 writes only ``hash: md5``; it cannot read another value either.
        raise DvcError(
            f"{dvc_file} records hash {shown(declared)}, which DVC does not write "
            "(only `hash: md5`, or none for DVC 2's md5): re-run `dvc add`"
        )
    check_relpath(name, what)
    folder = posixpath.dirname(dvc_file)
    path = posixpath.join(folder, name) if folder else name
    check_relpath(path, what)
    return Pointer(
        path=path,
        md5=check_md5(md5, what),
        size=check_size(out.get("size"), what),
        nfiles=check_size(out.get("nfiles"), what),
        hash_name=MD5 if declared == MD5 else LEGACY_MD5,
    )


def dvc_yaml_of(model: str) -> str:
    """The ``dvc.yaml`` that declares ``model``, relative to the repository root:
    ``dir/sub/dvc.yaml`` for ``dir/sub:name``, else the root's."""
    folder, _ = split_name(model)
    return f"{folder}/{DVC_YAML}" if folder else DVC_YAML


def artifact_path_at(dvc_yaml: bytes | None, model: str) -> str | None:
    """The path ``dvc_yaml`` (the file :func:`dvc_yaml_of` names) declares for ``model``,
    relative to the repository root, if any."""
    if dvc_yaml is None:
        return None
    import yaml

    from modelreg.values import expands_beyond, expansion_limit

    folder, name = split_name(model)
    try:
        data = yaml.load(dvc_yaml, Loader=_yaml_classes()[0]) or {}
        if expands_beyond(data, expansion_limit(str(dvc_yaml))):
            return None  # an alias bomb declares nothing we can use
        path = data.get("artifacts", {}).get(name, {}).get("path")
    except (yaml.YAMLError, AttributeError, ValueError):
        return None
    if path is None:
        return None
    what = f"{dvc_yaml_of(model)} artifact {name!r}"
    check_relpath(path, what)
    return check_relpath(posixpath.join(folder, path), what) if folder else path


def render_dvc_yaml(
    current: str | None, name: str, path: str, description: str | None, labels: list[str]
) -> str:
    """``dvc.yaml`` text with artifact ``name`` declared as a model, everything else kept.

    A file without comments is rewritten with PyYAML's C emitter (order kept); one with
    comments goes through ruamel's round-trip mode, which keeps them but is slow enough to
    matter on a registry of a hundred models.  A file that already declares the artifact so
    comes back as it is (a new version of a model usually changes nothing here).
    """
    entry: dict[str, Any] = {"path": path, "type": "model"}
    if description:
        entry["desc"] = description
    if labels:
        entry["labels"] = list(labels)
    if current is None or "#" not in current:
        import yaml

        loader, dumper = _yaml_classes()
        data = (yaml.load(current, Loader=loader) if current else None) or {}
        artifacts = _artifacts(data)
        if current is not None and artifacts.get(name) == entry:
            return current
        artifacts[name] = entry
        text: str = yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True)
        return text

    from ruamel.yaml import YAML

    rt = YAML()
    rt.indent(mapping=2, sequence=4, offset=2)
    loaded: Any = rt.load(current)
    if loaded is None:
        loaded = {}
    declared = _artifacts(loaded)
    if declared.get(name) == entry:
        return current
    declared[name] = entry
    buf = io.StringIO()
    rt.dump(loaded, buf)
    return buf.getvalue()


def _artifacts(data: Any) -> Any:
    """The ``artifacts:`` mapping of a loaded ``dvc.yaml``, created when missing or empty
    (``artifacts:`` followed only by comments); a one-line error for any other shape."""
    if not isinstance(data, dict):
        raise DvcError(f"{DVC_YAML} is not a mapping: fix it so `dvc` can read it, then retry")
    if data.get("artifacts") is None:
        data["artifacts"] = {}
    if not isinstance(data["artifacts"], dict):
        raise DvcError(f"`artifacts:` in {DVC_YAML} is not a mapping: fix it, then retry")
    return data["artifacts"]


def _yaml_classes() -> tuple[Any, Any]:
    from modelreg import yamlio

    return yamlio.SafeLoader, yamlio.SafeDumper


def update_dvc_yaml(
    root: Path, model: str, path: str, description: str | None, labels: list[str]
) -> None:
    """Declare ``model``, whose artifact is at ``path`` (relative to the repository root), in
    its ``dvc.yaml`` (created when missing).  The caller has checked that a monorepo model's
    ``path`` lies inside its folder."""
    from modelreg.index.files import write_atomic

    folder, name = split_name(model)
    target = root / dvc_yaml_of(model)
    current = target.read_text(encoding="utf-8") if target.exists() else None
    declared = posixpath.relpath(path, folder) if folder else path
    text = render_dvc_yaml(current, name, declared, description, labels)
    if text != current:  # unchanged: not rewritten (nor synced to disk)
        write_atomic(target, text.encode("utf-8"))
