"""Benchmark modelreg against GTO on synthetic registries (see bench/README.md).

    python bench/run.py [--sizes 10x10,100x10,100x100] [--gto/--no-gto] [--repeat N]

For each size it builds one synthetic repository (bench/synth.py) and a bare clone of it, then
times each command as a fresh process (wall clock, median of the runs) for modelreg and GTO side
by side on that same repository, records each process tree's peak RSS, prints a markdown table
and writes it, with the machine and tool versions, to bench/results.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def _ensure_modelreg_importable() -> None:
    """Run under the project's venv when started with a Python that lacks modelreg."""
    try:
        import modelreg  # noqa: F401
    except ImportError:
        venv_python = ROOT / ".venv" / "bin" / "python"
        if venv_python.exists() and Path(sys.executable).resolve() != venv_python.resolve():
            os.execv(str(venv_python), [str(venv_python), *sys.argv])
        sys.path.insert(0, str(ROOT / "src"))


_ensure_modelreg_importable()
sys.path.insert(0, str(BENCH))

import synth  # noqa: E402

# GTO is run this many times at most below BIG_TAGS tags, and once at or above (unless
# --gto-repeat says otherwise): at 10,300 tags each GTO command takes 25-70 s.
GTO_MAX_REPEAT = 3
BIG_TAGS = 5_000
TIMEOUT = 900.0

# Targets from issue 5, for the 100x100 registry: (seconds, minimum GTO/modelreg ratio).
TARGETS: dict[str, tuple[float, float]] = {
    "which": (0.25, 100),
    "latest": (0.25, 50),
    "show NAME": (0.25, 50),
    "list (show all)": (1.0, 50),
    "history NAME": (0.25, 50),
    "register 1 MB": (1.5, 50),
    "promote": (0.6, 50),
    "which --repo file://": (0.3, 50),
    "which --repo file:// (cold)": (1.0, 50),
}
TARGET_SIZE = (100, 100)
DEFAULT_SIZES = "10x10,100x10,100x100"


def tool(name: str) -> str | None:
    """The tool beside the running Python (the venv's), else on PATH."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    return shutil.which(name)


# -- running one process -------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    maxrss_kb: int
    code: int
    stdout: str
    stderr: str


GNU_TIME = "/usr/bin/time"


def run_once(
    argv: list[str], cwd: Path, timeout: float = TIMEOUT, env: dict[str, str] | None = None
) -> Run:
    """Run ``argv`` as a fresh process; wall time and the peak RSS of its process tree.

    The peak comes from GNU time (``%M``), which waits for the command and reads its rusage:
    its ``ru_maxrss`` is the largest RSS of the command and of every descendant it waited for
    (git, dvc ...).  ``os.wait4`` on our own child would be wrong: the child is forked from this
    (large) harness process, and Linux counts the pre-``exec`` RSS in the child's maximum.
    Without GNU time the ``wait4`` figure is used and flagged as an upper bound.
    """
    use_time = os.access(GNU_TIME, os.X_OK)
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile(mode="r", suffix=".rss") as rss,
    ):
        full = [GNU_TIME, "-f", "%M", "-o", rss.name, *argv] if use_time else argv
        start = time.perf_counter()
        proc = subprocess.Popen(
            full,
            cwd=cwd,
            env=synth.bench_env(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        timer = threading.Timer(timeout, lambda: _kill_group(proc.pid))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        code = -999 if seconds >= timeout else proc.returncode
        maxrss = usage.ru_maxrss
        if use_time:
            rss.seek(0)
            lines = [ln for ln in rss.read().split() if ln.strip().isdigit()]
            maxrss = int(lines[-1]) if lines else -1
        out.seek(0)
        err.seek(0)
        return Run(
            seconds,
            maxrss,
            code,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, 9)


# -- the repository and its reset ----------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=synth.bench_env(), check=True, capture_output=True, text=True
    ).stdout.strip()


def model_tags(repo: Path, name: str) -> set[str]:
    out = git(
        repo, "for-each-ref", "--format=%(refname)", f"refs/tags/{name}@*", f"refs/tags/{name}#*"
    )
    return set(out.split())


def _object_files(repo: Path) -> set[Path]:
    """Loose git objects and DVC cache objects: what a write adds besides refs."""
    found: set[Path] = set()
    for folder in (repo / ".git" / "objects", repo / ".dvc" / "cache"):
        if folder.exists():
            found.update(p for p in folder.rglob("*") if p.is_file())
    return found


@dataclass
class Snapshot:
    """The state a write command is undone to: the branch tip, one model's tags, and the
    objects that existed, so a repeated run finds none of its predecessor's objects (which
    would make it cheaper: an existing cache object is not written again)."""

    repo: Path
    model: str
    head: str
    tags: set[str]
    objects: set[Path]

    @classmethod
    def take(cls, repo: Path, model: str) -> Snapshot:
        head = git(repo, "rev-parse", "HEAD")
        return cls(repo, model, head, model_tags(repo, model), _object_files(repo))

    def restore(self) -> None:
        new = sorted(model_tags(self.repo, self.model) - self.tags)
        if new:
            git(self.repo, "tag", "-d", *(t.removeprefix("refs/tags/") for t in new))
        if git(self.repo, "rev-parse", "HEAD") != self.head:
            git(self.repo, "update-ref", "refs/heads/main", self.head)
        git(self.repo, "reset", "-q", "--hard", self.head)
        for path in _object_files(self.repo) - self.objects:
            path.chmod(0o644)
            path.unlink()
        _mark_index_validated(self.repo)


def _mark_index_validated(repo: Path) -> None:
    """What a registry in use has: its current registry.yaml validated by the previous
    write (modelreg re-parses the whole file only when it changed since).  The bench resets
    the file after each write, so it restores that cache entry too."""
    import hashlib

    text = (repo / "registry.yaml").read_bytes().decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    (repo / ".git" / "modelreg.valid-index").write_text(
        hashlib.sha1(text.encode("utf-8")).hexdigest() + "\n", encoding="utf-8"
    )


# -- commands ------------------------------------------------------------------------------


@dataclass
class Case:
    label: str
    modelreg: list[str] | None
    gto: list[str] | None
    write: bool = False
    remote: bool = False
    answer: str | None = None  # "version": compare the printed versions
    modelreg_note: str | None = None
    # Each run starts with an empty cache (no mirror of the remote yet).
    cold: bool = False


@dataclass
class Measure:
    runs: list[Run] = field(default_factory=list)
    note: str | None = None

    @property
    def ok(self) -> list[Run]:
        return [r for r in self.runs if r.code == 0]

    @property
    def median(self) -> float | None:
        ok = self.ok
        return (
            statistics.median(r.seconds for r in ok) if ok and len(ok) == len(self.runs) else None
        )

    @property
    def peak_mb(self) -> float | None:
        known = [r.maxrss_kb for r in self.runs if r.maxrss_kb >= 0]
        return max(known) / 1024 if known else None

    def failure(self) -> str | None:
        bad = [r for r in self.runs if r.code != 0]
        if not bad:
            return None
        r = bad[0]
        if r.code == -999:
            return f"timeout after {TIMEOUT:.0f} s"
        lines = [ln for ln in (r.stderr or r.stdout).strip().splitlines() if ln.strip()]
        return f"exit {r.code}: {lines[-1].strip()[:160] if lines else 'no output'}"


@dataclass
class Row:
    size: tuple[int, int]
    tags: int
    case: Case
    mr: Measure
    gto: Measure | None
    agree: str | None = None


def supports_url(modelreg: str) -> bool:
    """Whether ``modelreg which --repo`` accepts a URL (its help says so)."""
    proc = subprocess.run(
        [modelreg, "which", "--help"], capture_output=True, text=True, env=synth.bench_env()
    )
    text = proc.stdout.lower()
    return "url" in text or "://" in text


def cases(layout: synth.Layout, bare_url: str, url_ok: bool) -> list[Case]:
    m = layout.query_model()
    v = layout.promote_version(m)
    return [
        Case("which", ["which", m, "prod"], ["show", f"{m}#prod", "--ref"], answer="version"),
        Case("latest", ["latest", m], ["show", f"{m}@latest", "--ref"], answer="version"),
        Case("show NAME", ["show", m], ["show", m]),
        Case("list (show all)", ["list"], ["show"]),
        Case("history NAME", ["history", m], ["history", m]),
        Case(
            "register 1 MB",
            ["register", m, f"models/{m}.pkl", "--metric", "accuracy=0.9"],
            ["register", m, "HEAD"],
            write=True,
        ),
        Case(
            "promote",
            ["promote", m, v, "prod"],
            ["assign", m, "--version", v, "--stage", "prod"],
            write=True,
        ),
        Case(
            "which --repo file://",
            ["which", "--repo", bare_url, m, "prod"] if url_ok else None,
            ["show", "--repo", bare_url, f"{m}#prod", "--ref"],
            remote=True,
            answer="version",
            modelreg_note=None if url_ok else "n/a (not implemented)",
        ),
        Case(
            "which --repo file:// (cold)",
            ["which", "--repo", bare_url, m, "prod"] if url_ok else None,
            ["show", "--repo", bare_url, f"{m}#prod", "--ref"],
            remote=True,
            answer="version",
            modelreg_note=None if url_ok else "n/a (not implemented)",
            cold=True,
        ),
    ]


def measure(
    exe: str, args: list[str], case: Case, repo: Path, elsewhere: Path, model: str, times: int
) -> Measure:
    result = Measure()
    cwd = elsewhere if case.remote else repo
    for _ in range(times):
        snap = Snapshot.take(repo, model) if case.write else None
        if case.write and args and args[0] == "register" and exe.endswith("modelreg"):
            # A fresh 1 MB artifact each run (untimed).
            (repo / args[2]).write_bytes(os.urandom(1_000_000))
        try:
            if case.cold:
                with tempfile.TemporaryDirectory(dir=elsewhere) as cache:
                    env = {"XDG_CACHE_HOME": cache}
                    result.runs.append(run_once([exe, *args], cwd, env=env))
            else:
                result.runs.append(run_once([exe, *args], cwd))
        finally:
            if snap is not None:
                snap.restore()
        if result.runs[-1].code != 0:
            break  # one failure is enough to report it
    return result


def warm_up(modelreg: str, gto: str | None, workdir: Path) -> None:
    """Fill the bytecode cache: run each tool's commands once in a tiny scratch repository."""
    scratch = workdir / "warmup"
    layout = synth.build(scratch, 2, 4, log=False)
    m = layout.query_model()
    runs = [
        [modelreg, *c]
        for c in (
            ["which", m, "prod"],
            ["latest", m],
            ["show", m],
            ["list"],
            ["history", m],
            ["site", "-o", str(scratch / "site")],
            ["promote", m, "v1.3.0", "prod"],
        )
    ]
    (scratch / "models" / f"{m}.pkl").write_bytes(os.urandom(1000))
    runs.append([modelreg, "register", m, f"models/{m}.pkl"])
    if gto is not None:
        runs += [
            [gto, *c]
            for c in (
                ["show"],
                ["show", f"{m}#prod", "--ref"],
                ["history", m],
                ["register", m, "HEAD"],
                ["assign", m, "--version", "v1.2.0", "--stage", "prod"],
            )
        ]
    for argv in runs:
        run_once(argv, scratch)
    shutil.rmtree(scratch, ignore_errors=True)


def _version_of(text: str) -> str:
    line = text.strip().splitlines()[-1].strip() if text.strip() else ""
    return line.rsplit("@", 1)[-1]


def bench_size(
    models: int,
    versions: int,
    workdir: Path,
    repeat: int,
    gto_repeat: int | None,
    use_gto: bool,
    log: list[str],
) -> tuple[list[Row], SiteRow, float]:
    repo = workdir / f"{models}x{versions}"
    bare = workdir / f"{models}x{versions}.git"
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    layout = synth.build(repo, models, versions, bare=bare)
    built = time.perf_counter() - started
    modelreg = tool("modelreg")
    gto = tool("gto") if use_gto else None
    if modelreg is None:
        raise SystemExit("modelreg is not installed: run `make install` (or pip install -e .)")
    url_ok = supports_url(modelreg)
    g_times = (
        gto_repeat
        if gto_repeat is not None
        else (1 if layout.tags >= BIG_TAGS else min(repeat, GTO_MAX_REPEAT))
    )
    model = layout.query_model()
    _mark_index_validated(repo)
    warm_up(modelreg, gto, workdir)
    rows = []
    for case in cases(layout, bare.as_uri(), url_ok):
        mr = Measure(note=case.modelreg_note)
        if case.modelreg is not None:
            mr = measure(modelreg, case.modelreg, case, repo, elsewhere, model, repeat)
        gm = None
        if gto is not None and case.gto is not None:
            gm = measure(gto, case.gto, case, repo, elsewhere, model, g_times)
        row = Row((models, versions), layout.tags, case, mr, gm)
        if case.answer == "version" and mr.ok and gm is not None and gm.ok:
            a, b = _version_of(mr.ok[0].stdout), _version_of(gm.ok[0].stdout)
            row.agree = "yes" if a == b else f"NO: modelreg {a}, GTO {b}"
        rows.append(row)
        msg = (
            f"  {models}x{versions} {case.label:<22} modelreg {_fmt_s(mr.median, mr)}"
            f"  GTO {_fmt_s(gm.median, gm) if gm else '-'}"
        )
        print(msg, file=sys.stderr, flush=True)
        log.append(msg)
    site = bench_site(models, versions, layout.tags, repo, workdir, model, repeat)
    msg = (
        f"  {models}x{versions} site                   {_fmt_s(site.build.median, site.build)} s,"
        f" model page {site.model_page_kb or 0:.0f} KB, ui model page "
        f"{statistics.median(site.ui_model_page) if site.ui_model_page else float('nan'):.3f} s"
    )
    print(msg, file=sys.stderr, flush=True)
    log.append(msg)
    return rows, site, built


# -- the registry site --------------------------------------------------------------------

# Targets from issue 13, at 100x100.
SITE_SECONDS = 15.0
MODEL_PAGE_KB = 500.0
UI_MODEL_PAGE_SECONDS = 0.5


@dataclass
class SiteRow:
    size: tuple[int, int]
    tags: int
    build: Measure
    pages: int | None = None
    output_mb: float | None = None
    model_page_kb: float | None = None
    ui_model_page: list[float] = field(default_factory=list)
    ui_overview: list[float] = field(default_factory=list)
    ui_note: str | None = None


def _count_site(out: Path) -> tuple[int, float, float]:
    """Pages, total MB, and the heaviest model page in KB."""
    pages = list(out.rglob("index.html"))
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    heaviest = 0
    for page in pages:
        # A model page's folder is models/NAME/ (version pages sit under the reserved '-').
        parts = page.relative_to(out).parts
        if parts[0] == "models" and "-" not in parts:
            heaviest = max(heaviest, page.stat().st_size)
    return len(pages), total / 1e6, heaviest / 1024


def _ui_times(
    modelreg: str, repo: Path, model: str, repeat: int
) -> tuple[list[float], list[float]]:
    """Wall time of `modelreg ui`'s answer to the model page and the overview, each asked
    ``repeat`` times after one untimed request, from a server started once."""
    import http.client
    import re
    import signal

    proc = subprocess.Popen(
        [modelreg, "ui", "--port", "0"],
        cwd=repo,
        env=synth.bench_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if found is None:
            raise RuntimeError(f"modelreg ui did not start: {line.strip() or proc.stderr}")
        port = int(found[1])

        def fetch(path: str) -> float:
            start = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status}")
            return time.perf_counter() - start

        model_path = f"/models/{model}/index.html"
        fetch(model_path)
        model_times = [fetch(model_path) for _ in range(repeat)]
        overview_times = [fetch("/index.html") for _ in range(max(1, repeat // 2))]
        return model_times, overview_times
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)


def bench_site(
    models: int, versions: int, tags: int, repo: Path, workdir: Path, model: str, repeat: int
) -> SiteRow:
    """`modelreg site` into a new folder each run (CI's case), the pages it wrote, and
    `modelreg ui`'s model page."""
    modelreg = tool("modelreg")
    assert modelreg is not None
    build = Measure()
    out = workdir / f"site-{models}x{versions}"
    row = SiteRow((models, versions), tags, build)
    for i in range(max(1, min(repeat, 3))):
        shutil.rmtree(out, ignore_errors=True)
        build.runs.append(run_once([modelreg, "site", "-o", str(out)], repo))
        if build.runs[-1].code != 0:
            return row
        if i == 0:
            row.pages, row.output_mb, row.model_page_kb = _count_site(out)
    shutil.rmtree(out, ignore_errors=True)
    try:
        row.ui_model_page, row.ui_overview = _ui_times(modelreg, repo, model, repeat)
    except (RuntimeError, OSError) as e:
        row.ui_note = f"failed: {e}"
    return row


def site_table(rows: list[SiteRow]) -> str:
    head = [
        "size (tags)",
        "`site` s",
        "pages",
        "output MB",
        "model page KB",
        "`ui` model page s",
        "`ui` overview s",
        "target at 100×100",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        m, v = row.size
        build = _fmt_s(row.build.median, row.build)
        ui_model = statistics.median(row.ui_model_page) if row.ui_model_page else None
        ui_over = statistics.median(row.ui_overview) if row.ui_overview else None
        target = ""
        if row.size == TARGET_SIZE:
            checks = []
            if row.build.median is not None:
                ok = row.build.median <= SITE_SECONDS
                checks.append(f"site ≤ {SITE_SECONDS:.0f} s {'met' if ok else 'MISSED'}")
            if row.model_page_kb is not None:
                ok = row.model_page_kb <= MODEL_PAGE_KB
                checks.append(f"page ≤ {MODEL_PAGE_KB:.0f} KB {'met' if ok else 'MISSED'}")
            if ui_model is not None:
                ok = ui_model <= UI_MODEL_PAGE_SECONDS
                checks.append(f"ui ≤ {UI_MODEL_PAGE_SECONDS} s {'met' if ok else 'MISSED'}")
            target = ", ".join(checks)
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{m}×{v} ({row.tags:,})",
                    build,
                    f"{row.pages:,}" if row.pages is not None else "-",
                    f"{row.output_mb:.1f}" if row.output_mb is not None else "-",
                    f"{row.model_page_kb:.0f}" if row.model_page_kb is not None else "-",
                    row.ui_note or (f"{ui_model:.3f}" if ui_model is not None else "-"),
                    f"{ui_over:.3f}" if ui_over is not None else "-",
                    target,
                ]
            )
            + " |"
        )
    return "\n".join(lines)


# -- the table -----------------------------------------------------------------------------


def _fmt_s(value: float | None, m: Measure | None) -> str:
    if m is not None and m.note:
        return m.note
    if m is not None and m.failure():
        return "failed"
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _fmt_mb(m: Measure | None) -> str:
    if m is None or m.peak_mb is None:
        return "-"
    return f"{m.peak_mb:.0f}"


def _ratio(row: Row) -> float | None:
    if row.gto is None or row.gto.median is None or row.mr.median is None:
        return None
    return row.gto.median / row.mr.median


def _target(row: Row) -> str:
    if row.size != TARGET_SIZE or row.case.label not in TARGETS:
        return ""
    limit, factor = TARGETS[row.case.label]
    t = row.mr.median
    if t is None:
        return f"≤ {limit} s, ≥ {factor:.0f}×: not measured"
    time_ok = t <= limit
    ratio = _ratio(row)
    parts = [f"≤ {limit} s {'met' if time_ok else 'MISSED'}"]
    if ratio is not None:
        parts.append(f"≥ {factor:.0f}× {'met' if ratio >= factor else 'MISSED'}")
    return ", ".join(parts)


def table(rows: list[Row], use_gto: bool) -> str:
    head = [
        "size (tags)",
        "command",
        "modelreg s",
        "GTO s",
        "GTO/modelreg",
        "runs mr/GTO",
        "peak MB mr/GTO",
        "same answer",
        "target at 100×100",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        ratio = _ratio(row)
        m, v = row.size
        g = row.gto
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{m}×{v} ({row.tags:,})",
                    row.case.label,
                    _fmt_s(row.mr.median, row.mr),
                    _fmt_s(g.median, g) if g else ("skipped (--no-gto)" if not use_gto else "-"),
                    f"{ratio:.0f}×"
                    if ratio is not None and ratio >= 10
                    else (f"{ratio:.1f}×" if ratio is not None else "-"),
                    f"{len(row.mr.runs)}/{len(g.runs) if g else 0}",
                    f"{_fmt_mb(row.mr)}/{_fmt_mb(g)}",
                    row.agree or "",
                    _target(row),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def failures(rows: list[Row]) -> list[str]:
    out = []
    for row in rows:
        for who, m in (("modelreg", row.mr), ("GTO", row.gto)):
            if m is not None and m.failure():
                m_, v_ = row.size
                out.append(f"- {m_}×{v_} {row.case.label}, {who}: {m.failure()}")
    return out


def _version(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=synth.bench_env(), timeout=120
        )
        text = (proc.stdout or proc.stderr).strip().splitlines()
        return text[0].strip() if text else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine_info() -> list[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "?"
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    try:
        rev = git(ROOT, "rev-parse", "--short", "HEAD")
        dirty = git(ROOT, "status", "--porcelain", "--untracked-files=no")
        rev += " (with uncommitted changes)" if dirty else ""
    except subprocess.CalledProcessError:
        rev = "no commit yet"
    return [
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, "
        f"{mem} RAM, {platform.system()} {platform.release()}",
        f"- python {platform.python_version()}, {_version(['git', '--version'])}, "
        f"dvc {_dist_version('dvc')}, gto {_dist_version('gto')}, "
        f"modelreg {_dist_version('modelreg')} (checkout {rev})",
        "- load average (1/5/15 min) when written: "
        + "/".join(f"{x:.2f}" for x in os.getloadavg()),
        f"- GitPython {_dist_version('GitPython')}, typer {_dist_version('typer')}, "
        f"pydantic {_dist_version('pydantic')}, PyYAML {_dist_version('PyYAML')}",
    ]


def report(
    rows: list[Row],
    site_rows: list[SiteRow],
    builds: dict[str, float],
    args: argparse.Namespace,
    use_gto: bool,
    elapsed: float,
    done: bool,
) -> str:
    g_rule = (
        f"GTO runs each command min(--repeat, {GTO_MAX_REPEAT}) times below "
        f"{BIG_TAGS:,} tags and **once** at or above (the 100×100 rows)"
        if args.gto_repeat is None
        else f"GTO runs each command {args.gto_repeat} times"
    )
    parts = [
        "# modelreg vs GTO: benchmark results",
        "",
        *([] if done else ["**Partial: the run was still going when this was written.**", ""]),
        "Generated by `python bench/run.py"
        + "".join(" " + a for a in sys.argv[1:])
        + "` (see bench/README.md).",
        "",
        *machine_info(),
        "- synthetic builds: " + ", ".join(f"{k} in {v:.1f} s" for k, v in builds.items()),
        f"- whole run: {elapsed / 60:.1f} min",
        "",
        "Wall-clock seconds of a fresh process, median of the runs; modelreg runs each command "
        f"{args.repeat} times, {g_rule}. Peak MB is the largest RSS of the command's process "
        "tree (GNU time `%M`) over its runs"
        + (
            ""
            if os.access(GNU_TIME, os.X_OK)
            else " (no GNU time here: `wait4` figures, an upper bound that includes the "
            "harness' own RSS at fork)"
        )
        + ". Write commands run on a repository reset to the "
        "same state before each run (new tags deleted, branch reset). "
        "`same answer` compares the version modelreg prints with the one GTO prints. "
        + (
            "Python bytecode is cached (`PYTHONPYCACHEPREFIX` under the work folder, warmed by "
            "one untimed run of each command in a scratch repository; `PYTHONDONTWRITEBYTECODE` "
            "dropped), as for an installed package. "
            if args.pycache
            else "Bytecode caching as inherited from the environment (`--no-pycache`"
            + (
                ", PYTHONDONTWRITEBYTECODE=1: modelreg's sources are recompiled on every run"
                if os.environ.get("PYTHONDONTWRITEBYTECODE")
                else ""
            )
            + "). "
        )
        + "Targets are those of issue 5 (time, and minimum GTO/modelreg ratio) at 100×100.",
        "",
        table(rows, use_gto),
        "",
    ]
    fails = failures(rows)
    fails += [
        f"- {r.size[0]}×{r.size[1]} site: {r.build.failure()}"
        for r in site_rows
        if r.build.failure()
    ]
    if fails:
        parts += ["Failures:", "", *fails, ""]
    if site_rows:
        parts += [
            "## Registry site",
            "",
            "`modelreg site -o DIR` into a new folder each run (a fresh process; median of "
            "min(--repeat, 3) runs), what it wrote (pages, MB, the heaviest model page), and "
            "`modelreg ui` started once: the wall time of a GET of the model page (median of "
            "--repeat requests after one untimed) and of the overview. Targets are issue 13's "
            "at 100×100.",
            "",
            site_table(site_rows),
            "",
        ]
    parts += [
        "Command pairs: `modelreg which M prod` / `gto show M#prod --ref`; "
        "`modelreg latest M` / `gto show M@latest --ref`; `modelreg show M` / `gto show M`; "
        "`modelreg list` / `gto show`; `modelreg history M` / `gto history M`; "
        "`modelreg register M models/M.pkl --metric accuracy=0.9` (1 MB of fresh random bytes: "
        "dvc add, registry.yaml, dvc.yaml, commit, tag) / `gto register M HEAD` (a tag only); "
        "`modelreg promote M V prod` (tag + registry.yaml commit) / "
        "`gto assign M --version V --stage prod` (a tag only); "
        "`modelreg which --repo file://BARE M prod` / `gto show --repo file://BARE M#prod --ref` "
        "(GTO clones the repository), run from a folder outside the repository.",
        "",
    ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help="comma-separated MODELSxVERSIONS (default: %(default)s)",
    )
    parser.add_argument(
        "--gto",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time GTO (default: yes; --no-gto skips it)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="runs per modelreg command; the median is reported (default 5)",
    )
    parser.add_argument(
        "--gto-repeat",
        type=int,
        default=None,
        help=f"runs per GTO command (default: min(repeat, {GTO_MAX_REPEAT}), "
        f"once at {BIG_TAGS:,}+ tags)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "modelreg-bench",
        help="where the synthetic repositories are built (default: %(default)s)",
    )
    parser.add_argument(
        "--pycache",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time with a private, warmed bytecode cache under --workdir "
        "(default: yes; --no-pycache keeps the inherited environment)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCH / "results.md",
        help="markdown report (default: bench/results.md)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    # `make bench SIZES=` passes an empty string: fall back to the default sizes.
    sizes = [synth.parse_size(s) for s in (args.sizes or DEFAULT_SIZES).split(",") if s.strip()]
    sizes = sizes or [synth.parse_size(s) for s in DEFAULT_SIZES.split(",")]
    use_gto = args.gto and tool("gto") is not None
    if args.gto and not use_gto:
        print("gto is not installed: timing modelreg only", file=sys.stderr)
    workdir = args.workdir.absolute()
    workdir.mkdir(parents=True, exist_ok=True)
    if args.pycache:
        synth.PYCACHE_PREFIX = str(workdir / "pycache")

    started = time.perf_counter()
    rows: list[Row] = []
    site_rows: list[SiteRow] = []
    builds: dict[str, float] = {}
    log: list[str] = []
    for models, versions in sizes:
        size_rows, site_row, built = bench_size(
            models, versions, workdir, args.repeat, args.gto_repeat, use_gto, log
        )
        rows += size_rows
        site_rows.append(site_row)
        builds[f"{models}x{versions}"] = built
        text = report(
            rows, site_rows, builds, args, use_gto, time.perf_counter() - started, done=False
        )
        args.output.write_text(text, encoding="utf-8")
    elapsed = time.perf_counter() - started
    text = report(rows, site_rows, builds, args, use_gto, elapsed, done=True)
    args.output.write_text(text, encoding="utf-8")
    print(table(rows, use_gto))
    print()
    print(site_table(site_rows))
    print(f"\nwhole run: {elapsed / 60:.1f} min; report written to {args.output}")


if __name__ == "__main__":
    main()
