"""Build a synthetic modelreg / GTO registry of M models x V versions with ``git fast-import``.

    python bench/synth.py 100x100 /tmp/reg            # working repository
    python bench/synth.py 100x100 /tmp/reg --bare /tmp/reg.git

What the repository holds (see bench/README.md):

* an initial commit made by ``dvc init`` (``.dvc/config``, ``.dvc/.gitignore``, ``.dvcignore``);
* one commit per version, interleaved across models (round r registers version r of every
  model), each changing ``models/<name>.pkl.dvc`` (a valid DVC pointer with a random md5) and,
  in the first round, ``dvc.yaml`` (``artifacts:`` entry per model) and ``models/.gitignore``;
* an annotated tag ``<name>@v1.<r>.0`` on each of those commits whose message is exactly what
  ``modelreg register`` writes (``modelreg.tagmessage.compose`` + ``ArtifactRecord.to_json``);
* four stage tags per model, ``<name>#prod#1``, ``<name>#staging#2``, ``<name>#dev#3`` and
  ``<name>#prod#4``, on the commits of versions V-4, V-2, V-1 and V-3 (clamped at 0), dated
  after every registration: prod was assigned twice, so which version holds it depends on the
  tags' dates (by URL, tag names alone cannot answer);
* tagger dates strictly increasing per model (and globally);
* a final commit with ``registry.yaml`` (``stages: [dev, staging, prod]``), written with
  ``modelreg.index.serialise.dump_index`` so it matches what ``modelreg index rebuild`` produces;
* refs packed with ``git pack-refs --all``, as in a fresh clone.

So a registry of M x V has M*V + 4*M tags: 140, 1,400 and 10,400 for 10x10, 100x10, 100x100.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

STAGES = ["dev", "staging", "prod"]
AUTHOR_NAME = "Bench Bot"
AUTHOR_EMAIL = "bench@example.com"
T0 = 1_700_000_000  # 2023-11-14, well in the past: new tags are always dated later
STEP = 60  # seconds between two synthetic events (all models share one clock)


# Set by run.py: a private bytecode cache for every Python process the benchmark starts.
PYCACHE_PREFIX: str | None = None


def bench_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for every process the benchmark starts: a Git identity, no analytics.

    With :data:`PYCACHE_PREFIX` set, Python writes and reads bytecode there (and
    ``PYTHONDONTWRITEBYTECODE`` is dropped), so commands are timed with cached bytecode, as an
    installed package runs, without writing ``__pycache__`` folders into the checkout.
    """
    env = dict(os.environ)
    if PYCACHE_PREFIX is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = PYCACHE_PREFIX
    env.update(
        {
            "GIT_AUTHOR_NAME": AUTHOR_NAME,
            "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
            "GIT_COMMITTER_NAME": AUTHOR_NAME,
            "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
            "DVC_NO_ANALYTICS": "1",
            "GTO_NO_ANALYTICS": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
        }
    )
    if extra:
        env.update(extra)
    return env


def parse_size(text: str) -> tuple[int, int]:
    """``"100x10"`` -> (100, 10)."""
    try:
        m, v = text.lower().split("x")
        models, versions = int(m), int(v)
    except ValueError:
        raise SystemExit(f"bad size {text!r}: use MODELSxVERSIONS, e.g. 100x100") from None
    if models < 1 or versions < 1:
        raise SystemExit(f"bad size {text!r}: both numbers must be at least 1")
    return models, versions


def model_name(i: int) -> str:
    return f"m{i:03d}"


def version_name(r: int) -> str:
    return f"v1.{r}.0"


@dataclass
class Layout:
    """What the synthetic registry contains, for the benchmark to pick queries from."""

    models: int
    versions: int
    names: list[str] = field(default_factory=list)
    # name -> {stage: version}
    holders: dict[str, dict[str, str]] = field(default_factory=dict)
    tags: int = 0

    def stage_plan(self) -> list[tuple[str, int]]:
        """(stage, version index) assigned to every model, in order; counter = position + 1."""
        last = self.versions - 1
        return [
            ("prod", max(last - 3, 0)),
            ("staging", max(last - 1, 0)),
            ("dev", last),
            ("prod", max(last - 2, 0)),
        ]

    def query_model(self) -> str:
        """The model the per-model benchmarks ask about (one in the middle)."""
        return self.names[len(self.names) // 2]

    def promote_version(self, name: str) -> str:
        """A version that does not hold prod now (the latest), for ``promote``."""
        latest = version_name(self.versions - 1)
        if self.holders[name].get("prod") == latest and self.versions > 1:
            return version_name(self.versions - 2)
        return latest


def _run(
    args: list[str], cwd: Path, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        args, cwd=cwd, env=bench_env(), check=True, capture_output=True, input=input
    )


def _data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


def _pointer(name: str, md5: str, size: int) -> bytes:
    return (f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: {name}.pkl\n").encode()


def _dvc_yaml(names: list[str]) -> bytes:
    lines = ["artifacts:"]
    for name in names:
        lines += [
            f"  {name}:",
            f"    path: models/{name}.pkl",
            "    type: model",
            f"    desc: Synthetic model {name}",
            "    labels:",
            "    - bench",
        ]
    return ("\n".join(lines) + "\n").encode()


def _dvc_bin() -> str:
    here = Path(sys.executable).parent / "dvc"
    return str(here) if here.exists() else (shutil.which("dvc") or "dvc")


def build(
    path: Path,
    models: int,
    versions: int,
    *,
    bare: Path | None = None,
    seed: int = 0,
    log: bool = True,
) -> Layout:
    """Create (or replace) the repository at ``path`` and return its layout."""
    from modelreg.records import ArtifactRecord
    from modelreg.tagmessage import compose

    started = time.perf_counter()
    rng = random.Random(seed)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    _run(["git", "init", "-q", "-b", "main"], path)
    _run([_dvc_bin(), "init", "-q"], path)
    # Keep DVC quiet and local: no analytics, no autostage surprises.
    _run(["git", "commit", "-q", "-m", "Initialize DVC"], path)
    base = _run(["git", "rev-parse", "HEAD"], path).stdout.decode().strip()

    layout = Layout(models, versions, names=[model_name(i) for i in range(models)])
    ident = f"{AUTHOR_NAME} <{AUTHOR_EMAIL}>"
    registered_by = ident
    chunks: list[bytes] = []
    mark = 0
    clock = T0
    # per model: list of (version, commit mark, record)
    marks: dict[str, list[int]] = {n: [] for n in layout.names}
    records: dict[str, list[ArtifactRecord]] = {n: [] for n in layout.names}

    for r in range(versions):
        for name in layout.names:
            clock += STEP
            mark += 1
            version = version_name(r)
            md5 = f"{rng.getrandbits(128):032x}"
            size = rng.randint(10_000, 5_000_000)
            record = ArtifactRecord(
                path=f"models/{name}.pkl",
                md5=md5,
                size=size,
                metrics={
                    "accuracy": round(0.5 + 0.49 * rng.random(), 4),
                    "latency_ms": round(5 + 50 * rng.random(), 2),
                },
                params={"C": round(rng.uniform(0.01, 10), 3), "max_depth": rng.randint(2, 12)},
                description=f"Synthetic model {name}",
                labels=["bench"],
                registered_by=registered_by,
                registered_at=datetime.fromtimestamp(clock, tz=timezone.utc),
            )
            headline = f"Register {name} {version}"
            commit = [
                b"commit refs/heads/main\n",
                b"mark :%d\n" % mark,
                f"author {ident} {clock} +0000\n".encode(),
                f"committer {ident} {clock} +0000\n".encode(),
                _data(compose(headline).encode()),
            ]
            if mark == 1:
                commit.append(f"from {base}\n".encode())
            if r == 0 and name == layout.names[0]:
                commit.append(b"M 100644 inline dvc.yaml\n" + _data(_dvc_yaml(layout.names)))
                gitignore = "".join(f"/{n}.pkl\n" for n in layout.names).encode()
                commit.append(b"M 100644 inline models/.gitignore\n" + _data(gitignore))
            commit.append(
                f"M 100644 inline models/{name}.pkl.dvc\n".encode()
                + _data(_pointer(name, md5, size))
            )
            chunks.append(b"".join(commit))
            # The registration tag, dated with its commit.
            message = compose(headline, None, record)
            chunks.append(
                f"tag {name}@{version}\nfrom :{mark}\ntagger {ident} {clock} +0000\n".encode()
                + _data(message.encode())
            )
            marks[name].append(mark)
            records[name].append(record)

    # Stage tags: after every registration, counters 1..4 per model.
    for name in layout.names:
        layout.holders[name] = {}
    for counter, (stage, idx) in enumerate(layout.stage_plan(), start=1):
        for name in layout.names:
            clock += STEP
            version = version_name(idx)
            message = compose(f"Promote {name} {version} to {stage}")
            chunks.append(
                f"tag {name}#{stage}#{counter}\nfrom :{marks[name][idx]}\n"
                f"tagger {ident} {clock} +0000\n".encode()
                + _data(message.encode())
            )
            layout.holders[name][stage] = version

    # Final commit: the index, matching the tags.
    clock += STEP
    index_text = _index_text(layout, records)
    if index_text is not None:
        chunks.append(
            b"commit refs/heads/main\n"
            + f"author {ident} {clock} +0000\ncommitter {ident} {clock} +0000\n".encode()
            + _data(b"Rebuild registry index from tags\n")
            + b"M 100644 inline registry.yaml\n"
            + _data(index_text.encode())
        )
    chunks.append(b"done\n")
    stream = b"".join(chunks)
    _run(["git", "fast-import", "--quiet", "--done"], path, input=stream)
    _run(["git", "reset", "-q", "--hard", "main"], path)
    if index_text is None:
        # index.py changed shape: let modelreg write the index itself.
        _run([_tool("modelreg"), "index", "rebuild"], path)
    _run(["git", "pack-refs", "--all"], path)
    _run(["git", "gc", "-q", "--auto"], path)
    layout.tags = models * versions + len(layout.stage_plan()) * models

    if bare is not None:
        if bare.exists():
            shutil.rmtree(bare)
        bare.parent.mkdir(parents=True, exist_ok=True)
        _run(["git", "clone", "-q", "--bare", "--no-local", str(path), str(bare)], path.parent)
        _run(["git", "pack-refs", "--all"], bare)
    if log:
        took = time.perf_counter() - started
        print(
            f"built {models}x{versions} ({layout.tags} tags, {mark + 2} commits) "
            f"in {took:.1f} s: {path}",
            file=sys.stderr,
        )
    return layout


def _index_text(layout: Layout, records: Mapping[str, Sequence[object]]) -> str | None:
    """registry.yaml text via modelreg.index (``None`` if its API is not what we expect)."""
    try:
        from modelreg.index.schema import Index, ModelEntry, VersionEntry, format_time
        from modelreg.index.serialise import dump_index
    except ImportError:
        return None
    try:
        index = Index(stages=list(STAGES))
        for name in layout.names:
            entry = ModelEntry(
                description=f"Synthetic model {name}",
                path=f"models/{name}.pkl",
                labels=["bench"],
                stages=dict(layout.holders[name]),
            )
            for r, rec in enumerate(records[name]):
                version = version_name(r)
                entry.versions[version] = VersionEntry(
                    tag=f"{name}@{version}",
                    md5=rec.md5,  # type: ignore[attr-defined]
                    size=rec.size,  # type: ignore[attr-defined]
                    metrics=rec.metrics,  # type: ignore[attr-defined]
                    params=rec.params,  # type: ignore[attr-defined]
                    registered_by=rec.registered_by,  # type: ignore[attr-defined]
                    registered_at=format_time(rec.registered_at),  # type: ignore[attr-defined]
                )
            index.models[name] = entry
        return dump_index(index)
    except Exception as e:  # noqa: BLE001 - fall back to `modelreg index rebuild`
        print(
            f"synth: modelreg.index API changed ({e!r}); using `modelreg index rebuild`",
            file=sys.stderr,
        )
        return None


def _tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else (shutil.which(name) or name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", help="MODELSxVERSIONS, e.g. 100x100")
    parser.add_argument("path", type=Path, help="where to create the working repository")
    parser.add_argument("--bare", type=Path, help="also create a bare clone here")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    models, versions = parse_size(args.size)
    build(
        args.path.absolute(),
        models,
        versions,
        bare=args.bare.absolute() if args.bare else None,
        seed=args.seed,
    )


if __name__ == "__main__":
    main()
