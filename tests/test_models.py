"""The notebook workflow: log_model / load_model round trips, safety, and the model card."""

from __future__ import annotations

import dataclasses
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import yaml
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tests.helpers import git
from tests.helpers import modelreg as modelreg_cli

import modelreg
from modelreg import IntegrityError, InvalidInputError, Registry, yamlio

pytestmark = pytest.mark.slow


class Doubler(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """A custom transformer: a type skops does not trust by default."""

    def fit(self, X: object, y: object = None) -> Doubler:
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return X * 2


DOUBLER = f"{Doubler.__module__}.Doubler"


class RunsCode:
    """Pickles to a call of ``os.mkdir(marker)``: proof that unpickling ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


@pytest.fixture
def iris() -> tuple[Any, Any]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def hand_made(
    registry: Registry, repo: Path, name: str, card: object, files: dict[str, bytes] | None = None
) -> str:
    """Register ``models/<name>/`` holding ``files`` and a ``model.yaml`` (a mapping is dumped
    as YAML, ``str``/``bytes`` written as is), as any registrant can; returns the reference."""
    folder = repo / "models" / name
    folder.mkdir(parents=True)
    for rel, content in (files or {}).items():
        (folder / rel).write_bytes(content)
    if isinstance(card, bytes):
        data = card
    elif isinstance(card, str):
        data = card.encode()
    else:
        data = yaml.safe_dump(card).encode()
    (folder / "model.yaml").write_bytes(data)
    return f"{name}@{registry.register(name, f'models/{name}').version}"


def one_line_error(ref: str, **kwargs: object) -> str:
    """The message of the InvalidInputError ``load_model(ref, **kwargs)`` raises."""
    with pytest.raises(InvalidInputError) as caught:
        modelreg.load_model(ref, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message and message.startswith(ref.replace("@", " ")), message
    return message


def test_logistic_regression_round_trip_by_stage(
    registry: Registry, repo: Path, iris: tuple[Any, Any]
) -> None:
    X, y = iris
    model = LogisticRegression(C=0.5, max_iter=300).fit(X, y)
    acc = model.score(X, y)
    v = modelreg.log_model(
        model,
        "iris",
        metrics={"accuracy": acc},
        params={"C": 0.5},
        input_example=X.head(),
        description="Iris classifier",
    )
    assert (v.version, v.path, v.metrics) == ("v1.0.0", "models/iris", {"accuracy": acc})
    registry.promote("iris", v.version, "production")
    loaded = modelreg.load_model("iris#production")
    assert (loaded.predict(X) == model.predict(X)).all()
    card = yaml.safe_load((repo / "models/iris/model.yaml").read_text())
    assert card["flavor"] == "sklearn" and card["file"] == "model.skops"
    assert card["libraries"]["scikit-learn"]
    assert card["python"] == ".".join(map(str, sys.version_info[:3]))
    assert card["signature"]["features"] == list(X.columns)
    assert card["signature"]["dtypes"] == ["float64"] * 4
    assert card["signature"]["shape"] == [None, 4]
    assert card["metrics"] == {"accuracy": acc} and card["params"] == {"C": 0.5}
    assert git(repo, "status", "--porcelain") == ""
    shown = modelreg_cli(repo, "show", "iris@v1.0.0").stdout
    assert "flavor:     sklearn (model.skops)" in shown
    assert "sepal length (cm): float64" in shown


def test_pipeline_round_trip_and_signature_comparison(
    registry: Registry, iris: tuple[Any, Any]
) -> None:
    X, y = iris
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X, y)
    modelreg.log_model(pipe, "iris", metrics={"accuracy": pipe.score(X, y)}, input_example=X)
    narrow = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X.iloc[:, :2], y)
    modelreg.log_model(narrow, "iris", input_example=X.iloc[:, :2])
    loaded = modelreg.load_model("iris@v1.0.0")
    assert (loaded.predict(X) == pipe.predict(X)).all()
    assert (
        modelreg.load_model("iris@latest").predict(X.iloc[:, :2]) == narrow.predict(X.iloc[:, :2])
    ).all()
    assert registry.compare("iris", "v1.0.0", "v1.1.0").signature_changed is True
    assert registry.compare("iris", "v1.0.0", "v1.0.0").signature_changed is False


def test_joblib_on_request(registry: Registry, iris: tuple[Any, Any]) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=300).fit(X, y)
    v = modelreg.log_model(model, "iris", flavor="joblib")
    assert v.card is not None and v.card["file"] == "model.joblib"
    one_line_error("iris@v1.0.0")
    loaded = modelreg.load_model("iris@v1.0.0", allow_pickle=True)
    assert (loaded.predict(X) == model.predict(X)).all()


def test_a_pickle_runs_only_with_allow_pickle(
    registry: Registry, repo: Path, tmp_path: Path, iris: tuple[Any, Any]
) -> None:
    """A hand-made card saying ``flavor: joblib`` cannot make load_model unpickle."""
    X, y = iris
    marker = tmp_path / "pickle-ran"
    model = LogisticRegression(max_iter=300).fit(X, y)
    blob = tmp_path / "blob.joblib"
    joblib.dump({"model": model, "side": RunsCode(marker)}, blob)
    ref = hand_made(
        registry,
        repo,
        "pickled",
        {"flavor": "joblib", "file": "model.joblib"},
        {"model.joblib": blob.read_bytes()},
    )
    message = one_line_error(ref)
    assert "is a pickle (joblib), which runs code when loaded: pass allow_pickle=True" in message
    assert not marker.exists()  # nothing was unpickled
    loaded = modelreg.load_model(ref, allow_pickle=True)
    assert marker.is_dir()
    assert (loaded["model"].predict(X) == model.predict(X)).all()


def test_folder_artifact_as_is(registry: Registry, repo: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "sub").mkdir(parents=True)
    (bundle / "weights.bin").write_bytes(b"\x00\x01")
    (bundle / "sub" / "vocab.txt").write_text("a\nb\n")
    v = modelreg.log_model(bundle, "bert")
    assert v.card is not None and v.card["flavor"] == "path"
    path = modelreg.load_model("bert@v1.0.0")
    assert (path / "weights.bin").read_bytes() == b"\x00\x01"
    assert (path / "sub" / "vocab.txt").read_text() == "a\nb\n"


def test_tampered_artifact_is_refused_before_deserializing(
    registry: Registry, repo: Path, iris: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = iris
    modelreg.log_model(LogisticRegression(max_iter=300).fit(X, y), "iris")
    card = registry.resolve("iris@v1.0.0")
    listing = repo / ".dvc/cache/files/md5" / card.md5[:2] / card.md5[2:]  # type: ignore[index]
    import json

    entries = json.loads(listing.read_text())
    model_md5 = next(e["md5"] for e in entries if e["relpath"] == "model.skops")
    obj = repo / ".dvc/cache/files/md5" / model_md5[:2] / model_md5[2:]
    obj.chmod(0o644)
    obj.write_bytes(obj.read_bytes()[:-10] + b"0123456789")
    import skops.io

    calls: list[object] = []
    monkeypatch.setattr(skops.io, "load", lambda *a, **k: calls.append(a))
    with pytest.raises(IntegrityError, match="iris v1.0.0"):
        modelreg.load_model("iris@v1.0.0")
    assert calls == []  # never deserialized


def test_unknown_objects_and_flavors_are_clear_errors(registry: Registry) -> None:
    with pytest.raises(
        InvalidInputError, match="no flavor knows builtins.dict objects: supported are scikit-learn"
    ):
        modelreg.log_model({"weights": [1, 2]}, "x")
    with pytest.raises(
        InvalidInputError,
        match="unknown flavor 'onnx': supported flavors are sklearn, joblib, path",
    ):
        modelreg.log_model(LogisticRegression(), "x", flavor="onnx")


def test_missing_optional_dependency_is_a_clear_error(
    registry: Registry, iris: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = iris
    for name in [m for m in sys.modules if m == "skops" or m.startswith("skops.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "skops", None)  # makes `import skops` fail
    with pytest.raises(
        InvalidInputError,
        match=r"needs the 'skops' package: pip install "
        r"'modelreg\[sklearn\]'",
    ):
        modelreg.log_model(LogisticRegression(max_iter=300).fit(X, y), "iris")


def test_custom_types_load_only_when_the_caller_trusts_them(
    registry: Registry, repo: Path, iris: tuple[Any, Any]
) -> None:
    X, y = iris
    pipe = make_pipeline(Doubler(), LogisticRegression(max_iter=300)).fit(X.values, y)
    v = modelreg.log_model(pipe, "custom")
    # The card still records the types as information, but does not decide anything.
    assert v.card is not None and v.card["trusted_types"] == [DOUBLER]
    message = one_line_error("custom@v1.0.0")
    assert "needs types skops does not trust by default: check them, then pass " in message
    assert f"trusted=[{DOUBLER!r}] to load_model" in message
    loaded = modelreg.load_model("custom@v1.0.0", trusted=[DOUBLER])
    assert (loaded.predict(X.values) == pipe.predict(X.values)).all()
    # A card that claims trust in builtins.eval (as any registrant can write) changes nothing.
    card_path = repo / "models/custom/model.yaml"
    card = yaml.safe_load(card_path.read_text())
    card["trusted_types"] = ["builtins.eval"]
    card_path.write_text(yaml.safe_dump(card))
    registry.register("custom", "models/custom")
    message = one_line_error("custom@v1.1.0", trusted=["builtins.eval"])
    assert f"pass trusted=[{DOUBLER!r}]" in message  # what skops finds, minus `trusted`
    loaded = modelreg.load_model("custom@v1.1.0", trusted=[DOUBLER])
    assert (loaded.predict(X.values) == pipe.predict(X.values)).all()


def test_the_card_cannot_make_skops_trust_eval(
    registry: Registry, repo: Path, tmp_path: Path
) -> None:
    import skops.io

    skops.io.dump({"f": eval}, tmp_path / "evil.skops")
    ref = hand_made(
        registry,
        repo,
        "evil",
        {"flavor": "sklearn", "file": "model.skops", "trusted_types": ["builtins.eval"]},
        {"model.skops": (tmp_path / "evil.skops").read_bytes()},
    )
    assert "pass trusted=['builtins.eval'] to load_model" in one_line_error(ref)


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x05\x06" + b"\x00" * 18])
def test_a_file_skops_cannot_read_is_a_one_line_error(
    registry: Registry, repo: Path, content: bytes
) -> None:
    ref = hand_made(
        registry,
        repo,
        "junk",
        {"flavor": "sklearn", "file": "model.skops"},
        {"model.skops": content},
    )
    assert "model.skops is not a skops file this skops can read" in one_line_error(ref)


def test_trusted_must_be_a_list_of_names(registry: Registry) -> None:
    with pytest.raises(
        InvalidInputError,
        match=r"not the string 'sklearn.tree._tree.Tree': "
        r"pass trusted=\['sklearn.tree._tree.Tree'\]",
    ):
        modelreg.load_model("iris@v1.0.0", trusted="sklearn.tree._tree.Tree")


def test_common_estimators_and_what_they_need_trusted(
    registry: Registry, iris: tuple[Any, Any]
) -> None:
    """Measured on skops 0.16: linear models and scaler pipelines load with skops's defaults;
    tree ensembles need sklearn.tree._tree.Tree trusted."""
    X, y = iris
    linear = LogisticRegression(max_iter=300).fit(X, y)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X, y)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    for name, model in [("linear", linear), ("pipe", pipe), ("forest", forest)]:
        modelreg.log_model(model, name)
    assert (modelreg.load_model("linear@v1.0.0").predict(X) == linear.predict(X)).all()
    assert (modelreg.load_model("pipe@v1.0.0").predict(X) == pipe.predict(X)).all()
    assert "pass trusted=['sklearn.tree._tree.Tree'] to" in one_line_error("forest@v1.0.0")
    loaded = modelreg.load_model("forest@v1.0.0", trusted=["sklearn.tree._tree.Tree"])
    assert (loaded.predict(X) == forest.predict(X)).all()


@pytest.mark.parametrize(
    "file",
    ["../../outside", "../outside", "sub/../../outside", "/etc/passwd", "", ".", "a\\b", 7],
)
def test_the_card_file_must_stay_inside_the_artifact(
    registry: Registry, repo: Path, file: object
) -> None:
    ref = hand_made(registry, repo, "escape", {"flavor": "path", "file": file}, {"x": b"x"})
    message = one_line_error(ref)
    assert "model.yaml has file" in message


def test_an_absolute_card_file_is_never_unpickled(
    registry: Registry, repo: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pickle-ran"
    outside = tmp_path / "outside.joblib"
    joblib.dump(RunsCode(marker), outside)
    ref = hand_made(registry, repo, "abs", {"flavor": "joblib", "file": str(outside)}, {"x": b"x"})
    assert "expected a relative path inside the artifact folder" in one_line_error(
        ref, allow_pickle=True
    )
    assert not marker.exists()


@pytest.mark.parametrize("link_at", ["model.joblib", "sub"])
def test_a_symlink_in_the_fetched_artifact_is_refused(
    registry: Registry,
    repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    link_at: str,
) -> None:
    """DVC materializes regular files, but a fetched copy is not trusted to: a card naming a
    link (or a path through a linked folder) is refused, even with allow_pickle."""
    marker = tmp_path / "pickle-ran"
    outside = tmp_path / "outside"
    outside.mkdir()
    joblib.dump(RunsCode(marker), outside / "model.joblib")
    file = "model.joblib" if link_at == "model.joblib" else "sub/model.joblib"
    ref = hand_made(registry, repo, "linked", {"flavor": "joblib", "file": file}, {"x": b"x"})
    real_get = Registry.get

    def get_then_plant_link(self: Registry, ref: str, out: Path, **kwargs: object) -> Path:
        local = real_get(self, ref, out, **kwargs)  # type: ignore[arg-type]
        target = outside / "model.joblib" if link_at == "model.joblib" else outside
        (local / link_at).symlink_to(target)
        return local

    monkeypatch.setattr(Registry, "get", get_then_plant_link)
    assert "which is a symbolic link in the artifact" in one_line_error(ref, allow_pickle=True)
    assert not marker.exists()


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("card", "says"),
    [
        ("- flavor: path\n- file: x\n", "must be a mapping, not a list"),
        ("just text\n", "must be a mapping, not a str"),
        ("", "must be a mapping, not an empty document"),
        ("flavor: path\nfile: [x\n", "is not valid YAML (line 3"),
        ("flavor: !!python/object:os.system {}\n", "is not valid YAML"),
        # libyaml refuses the depth itself; pure-Python PyYAML runs out of recursion first.
        (
            "a: " + _nested(20000) + "\n",
            "is not valid YAML (line 1: exceeded maximum nesting depth)"
            if yamlio.SafeLoader is not yaml.SafeLoader
            else "is not valid YAML (nested too deeply)",
        ),
        (b"flavor: path\nfile: \xff\n", "is not UTF-8 text"),
        ({"flavor": "path", "file": "x", "pad": "y" * (1 << 20)}, "is over the 1 MB limit"),
        ({"flavor": "onnx", "file": "x"}, "names flavor 'onnx': known flavors are"),
        ({"flavor": ["sklearn"], "file": "x"}, "names flavor ['sklearn']"),
        ({"file": "x"}, "names flavor None"),
        ({"flavor": "path"}, "has file None"),
        ({"flavor": "path", "file": "x", "libraries": ["numpy"]}, "has libraries that are"),
    ],
)
def test_a_malformed_card_is_a_one_line_error(
    registry: Registry, repo: Path, card: object, says: str
) -> None:
    ref = hand_made(registry, repo, "bad", card, {"x": b"x"})
    message = one_line_error(ref)
    assert says in message and message.endswith("(log_model writes one)"), message


def test_a_malformed_md5_never_becomes_a_path(
    registry: Registry, repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ref = hand_made(registry, repo, "plain", {"flavor": "path", "file": "x"}, {"x": b"x"})
    real_resolve = Registry.resolve
    calls: list[object] = []

    def resolve_with(md5: str) -> object:
        def fake(self: Registry, ref: str) -> object:
            return dataclasses.replace(real_resolve(self, ref), md5=md5)

        return fake

    monkeypatch.setattr(Registry, "get", lambda *a, **k: calls.append(a))
    for md5 in ["../../../../victim", "/tmp/x", "A" * 32, "0" * 32 + ".dir/..", "0" * 31]:
        monkeypatch.setattr(Registry, "resolve", resolve_with(md5))
        with pytest.raises(IntegrityError, match="which is not an md5") as caught:
            modelreg.load_model(ref)
        assert "\n" not in str(caught.value)
    assert calls == []


def test_library_version_mismatch_warns(
    registry: Registry, repo: Path, iris: tuple[Any, Any]
) -> None:
    X, y = iris
    modelreg.log_model(LogisticRegression(max_iter=300).fit(X, y), "iris")
    card_path = repo / "models/iris/model.yaml"
    card = yaml.safe_load(card_path.read_text())
    card["libraries"]["scikit-learn"] = "0.24.2"
    card_path.write_text(yaml.safe_dump(card))
    registry.register("iris", "models/iris")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        modelreg.load_model("iris@v1.1.0")
    texts = [
        str(w.message) for w in caught if issubclass(w.category, modelreg.LibraryVersionWarning)
    ]
    assert len(texts) == 1
    assert "saved with scikit-learn 0.24.2" in texts[0] and "this environment has" in texts[0]


@pytest.mark.parametrize("link", ["models", "models/iris"])
def test_log_model_refuses_a_symlinked_models_folder(
    registry: Registry, repo: Path, tmp_path: Path, iris: tuple[Any, Any], link: str
) -> None:
    """A clone can carry a committed link; log_model must neither write nor delete through it."""
    X, y = iris
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "iris").mkdir(parents=True)
    (elsewhere / "iris" / "keep.txt").write_text("precious")
    (elsewhere / "keep.txt").write_text("precious too")
    if (repo / "models").exists():
        (repo / "models").rmdir()
    if link == "models":
        (repo / "models").symlink_to(elsewhere, target_is_directory=True)
    else:
        (repo / "models").mkdir()
        (repo / "models" / "iris").symlink_to(elsewhere / "iris", target_is_directory=True)
    before = {p: p.read_bytes() for p in elsewhere.rglob("*") if p.is_file()}
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    with pytest.raises(InvalidInputError, match=f"^{link} is a symbolic link .*: replace {link}"):
        modelreg.log_model(LogisticRegression(max_iter=300).fit(X, y), "iris")
    assert sorted(elsewhere.rglob("*")) == sorted([*before, elsewhere / "iris"])
    assert {p: p.read_bytes() for p in before} == before
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == status
    assert git(repo, "tag") == ""
