"""End-to-end demo of modelreg: train, register, promote, roll back, audit, deploy, push, and
build the registry's web pages.

Run:  .venv/bin/python demo/demo.py [--workdir PATH]

Everything happens in a scratch folder (a new temp dir unless --workdir is given) holding a
bare Git remote, a local DVC remote and the registry repository itself.  Exit 0 on success;
on failure one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

# Set before importing anything that may import DVC: its analytics would try the network.
os.environ["DVC_NO_ANALYTICS"] = "1"
os.environ["GTO_NO_ANALYTICS"] = "1"

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import modelreg  # noqa: E402

MODEL = "iris"
SEED = 42
# The venv's console scripts, not whatever is first on PATH: the demo must exercise this
# checkout even when run without activating the venv.
BIN = Path(sys.executable).parent
MODELREG_CLI = BIN / "modelreg"


class DemoError(Exception):
    """A step of the demo did not do what it should; the message says which."""


def run(args: Sequence[str | os.PathLike[str]], cwd: Path) -> str:
    """Run a command, returning stdout; a failing command becomes one readable error."""
    proc = subprocess.run(
        [os.fspath(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        last = detail[-1] if detail else "no output"
        raise DemoError(
            f"`{' '.join(os.fspath(a) for a in args)}` exited {proc.returncode}: {last}"
        )
    return proc.stdout.strip()


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], cwd=repo)


def shown_cli() -> str:
    """How a printed command names modelreg: plain ``modelreg`` when that is this
    checkout's (an activated venv), else the full path, so a pasted command runs it."""
    found = shutil.which("modelreg")
    if found is not None and Path(found).resolve() == MODELREG_CLI.resolve():
        return "modelreg"
    return str(MODELREG_CLI)


def cli(repo: Path, *args: str) -> str:
    """Run a modelreg command in ``repo`` and print it as a transcript (``$ modelreg …``
    and its output): every such line works when pasted in ``repo``."""
    out = run([MODELREG_CLI, *args], cwd=repo)
    print(f"$ {shlex.join([shown_cli(), *args])}")
    if out:
        print(out)
    return out


def show(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def section(title: str) -> None:
    print(f"\n== {title}")


def make_repos(scratch: Path) -> tuple[Path, Path, Path]:
    """A bare Git remote, a DVC remote folder, and a fresh repo wired to both."""
    origin = scratch / "origin.git"
    dvc_remote = scratch / "dvc-remote"
    repo = scratch / "repo"
    dvc_remote.mkdir()
    repo.mkdir()
    # Branch named explicitly so `git push origin main` works whatever init.defaultBranch says.
    git(scratch, "init", "-q", "--bare", "-b", "main", str(origin))
    git(repo, "init", "-q", "-b", "main")
    # Repo-local identity: a fresh machine has no global one and modelreg refuses to write
    # tags without an author.
    git(repo, "config", "user.name", "modelreg demo")
    git(repo, "config", "user.email", "demo@example.com")
    (repo / "README.md").write_text("# iris models\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "Initial commit")
    git(repo, "remote", "add", "origin", str(origin))
    return origin, dvc_remote, repo


Split = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]


def iris_split() -> Split:
    data = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.3, random_state=SEED, stratify=data.target
    )
    return x_train, x_test, y_train, y_test


def train(split: Split, c: float, max_iter: int) -> tuple[LogisticRegression, float]:
    x_train, x_test, y_train, y_test = split
    model = LogisticRegression(C=c, max_iter=max_iter)
    model.fit(x_train, y_train)
    return model, float(model.score(x_test, y_test))


def train_and_log(repo: Path, split: Split, c: float, max_iter: int) -> modelreg.ModelVersion:
    model, acc = train(split, c, max_iter)
    # The MLflow-style one-liner: serialize (skops), write the model card, register.
    return modelreg.log_model(
        model,
        MODEL,
        metrics={"accuracy": acc},
        params={"C": c, "max_iter": max_iter, "random_state": SEED},
        description="Logistic regression on the iris data set",
        labels=["sklearn", "tabular", "demo"],
        input_example=split[0][:5],
        repo=repo,
    )


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise DemoError(what)


def demo(scratch: Path) -> None:
    started = time.monotonic()
    print(f"scratch folder: {scratch}")

    section("1. repositories")
    origin, dvc_remote, repo = make_repos(scratch)
    reg = modelreg.Registry(repo)
    index = reg.init(dvc_remote=str(dvc_remote))
    print(f"git remote (bare): {origin}")
    print(f"dvc remote:        {dvc_remote}")
    print(f"registry index:    {index}")
    print(f"The `$ modelreg …` commands below run in {repo}: cd there to paste them.")

    section("2-3. train and register two versions")
    split = iris_split()
    weak = train_and_log(repo, split, 0.01, 200)
    strong = train_and_log(repo, split, 1.0, 200)
    for mv in (weak, strong):
        print(
            f"{mv.name} {mv.version}  accuracy={mv.metrics['accuracy']:.4f}  "
            f"params={mv.params}  tag={mv.tag}"
        )
    expect(
        (weak.version, strong.version) == ("v1.0.0", "v1.1.0"),
        f"expected v1.0.0 and v1.1.0, got {weak.version} and {strong.version}",
    )
    expect(
        strong.metrics["accuracy"] > weak.metrics["accuracy"],
        "the C=1.0 model should beat the C=0.01 one on the test set",
    )

    section("4. promote to production")
    for mv in (weak, strong):
        change = reg.promote(MODEL, mv.version, "production")
        print(f"promoted {change.version} -> {change.stage}  ({change.tag})")
    api_holder = reg.which(MODEL, "production").version
    print(f"Registry.which: {api_holder}")
    # Deploy scripts ask the CLI from inside the repo, so do exactly that.
    cli_holder = cli(repo, "which", MODEL, "production")
    expect(
        api_holder == cli_holder == strong.version,
        f"production should be {strong.version}: API says {api_holder}, CLI {cli_holder}",
    )

    section("5. roll back, then promote again")
    change = reg.rollback(MODEL, "production", message="demo: pretend v1.1.0 misbehaves")
    now = reg.which(MODEL, "production").version
    print(f"rolled back production -> {change.version}  ({change.tag}); which says {now}")
    expect(now == weak.version, f"after rollback production should be {weak.version}, is {now}")
    change = reg.promote(MODEL, strong.version, "production", message="demo: fixed, re-promote")
    now = reg.which(MODEL, "production").version
    print(f"promoted {change.version} -> production again ({change.tag}); which says {now}")
    expect(now == strong.version, f"production should be {strong.version} again, is {now}")

    section("6. history (newest first, times in UTC, with each -m note) and comparison")
    history = cli(repo, "history", MODEL)
    expect(
        "demo: pretend v1.1.0 misbehaves" in history,
        "the history should show the rollback's -m note",
    )
    cmp = reg.compare(MODEL, weak.version, strong.version)
    print(f"compare {cmp.a} -> {cmp.b}:")
    for d in cmp.metrics + cmp.params:
        delta = "" if d.delta is None else f"  (delta {d.delta:+.4g})"
        print(f"  {d.key:<12} {show(d.a):>7} -> {show(d.b):<7}{delta}")
    print(f"artifact bytes changed: {cmp.artifact_changed}")
    expect(cmp.artifact_changed is True, "two differently trained models must differ in bytes")

    section("7. deploy production and push")
    model: LogisticRegression = modelreg.load_model(f"{MODEL}#production", repo=repo)
    _, x_test, _, y_test = split
    live_acc = float(model.score(x_test, y_test))
    registered_acc = reg.which(MODEL, "production").metrics["accuracy"]
    print(f"load_model('{MODEL}#production'): {type(model).__name__}, md5 verified, skops")
    print(f"deployed model accuracy {live_acc:.4f}; registered {registered_acc:.4f}")
    expect(
        live_acc == registered_acc,
        f"deployed model scores {live_acc}, registry recorded {registered_acc}",
    )
    # --force: the same command redeploys to the same folder (as pasting it again would).
    out = scratch / "deployed"
    deployed = Path(cli(repo, "get", f"{MODEL}#production", "-o", str(out), "--force"))
    expect(deployed == out, f"get wrote {deployed}, not {out}")
    print(f"deployed files: {', '.join(sorted(p.name for p in deployed.iterdir()))}")

    # Bytes first (DVC remote), then the branch and every registry tag in one atomic push.
    cli(repo, "push")
    objects = [p for p in dvc_remote.rglob("*") if p.is_file()]
    print(f"the DVC remote holds {len(objects)} objects")
    expect(len(objects) >= 4, f"expected both versions' bytes in the DVC remote, found {objects}")
    remote_tags = sorted(
        line.split("refs/tags/", 1)[1]
        for line in git(repo, "ls-remote", "--tags", "origin").splitlines()
        if not line.endswith("^{}")  # peeled duplicates of annotated tags
    )
    print(f"origin has {len(remote_tags)} tags: {', '.join(remote_tags)}")
    local_tags = sorted(git(repo, "tag", "--list").splitlines())
    expect(remote_tags == local_tags, f"origin tags {remote_tags} != local tags {local_tags}")
    remote_main = git(origin, "rev-parse", "main")
    expect(remote_main == git(repo, "rev-parse", "HEAD"), "origin/main is not the local HEAD")
    print(f"origin main at {remote_main[:12]}")
    # By URL, as a deploy job asks the Git host: an absolute file:// URL, pasteable anywhere.
    by_url = cli(repo, "which", MODEL, "production", "--repo", origin.as_uri())
    expect(by_url == strong.version, f"by URL production should be {strong.version}, is {by_url}")

    section("8. the registry as web pages")
    site = scratch / "site"
    built = run([MODELREG_CLI, "site", "-o", site], cwd=repo)
    print(f"$ modelreg site -o {site}")
    print(built)
    page = site / "models" / MODEL / "index.html"
    text = page.read_text(encoding="utf-8")
    expect(
        text.count('class="pt"') == 2 and 'data-stage="production"' in text,
        f"{page} should plot both versions and mark production's holder",
    )
    print(f"or serve the same pages from the repository: modelreg ui --repo {repo}")

    print(f"\nOK in {time.monotonic() - started:.1f}s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a new temp dir)")
    args = parser.parse_args(argv)
    try:
        if args.workdir is not None:
            scratch: Path = args.workdir.resolve()
            scratch.mkdir(parents=True, exist_ok=True)
            # The demo creates fixed names inside; refuse to mix with an earlier run.
            if any(scratch.iterdir()):
                raise DemoError(f"--workdir {scratch} is not empty: pass an empty or new folder")
        else:
            scratch = Path(tempfile.mkdtemp(prefix="modelreg-demo-")).resolve()
        demo(scratch)
    except DemoError as e:
        print(f"demo failed: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - one line, not a traceback, whatever broke
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        print(f"demo failed: {type(e).__name__}: {first}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
