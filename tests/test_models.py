"""The notebook workflow: log_model / load_model round trips, safety, and the model card."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tests.conftest import git
from tests.conftest import modelreg as modelreg_cli

import modelreg
from modelreg import IntegrityError, InvalidInputError, Registry

pytestmark = pytest.mark.slow


class Doubler(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """A custom transformer: a type skops does not trust by default."""

    def fit(self, X: object, y: object = None) -> Doubler:
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return X * 2


@pytest.fixture
def iris() -> tuple[object, object]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def test_logistic_regression_round_trip_by_stage(
    registry: Registry, repo: Path, iris: tuple[object, object]
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
    registry: Registry, iris: tuple[object, object]
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


def test_joblib_on_request(registry: Registry, iris: tuple[object, object]) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=300).fit(X, y)
    v = modelreg.log_model(model, "iris", flavor="joblib")
    assert v.card is not None and v.card["file"] == "model.joblib"
    assert (modelreg.load_model("iris@v1.0.0").predict(X) == model.predict(X)).all()


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
    registry: Registry, repo: Path, iris: tuple[object, object], monkeypatch: pytest.MonkeyPatch
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
    registry: Registry, iris: tuple[object, object], monkeypatch: pytest.MonkeyPatch
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


def test_types_the_card_does_not_trust_are_refused(
    registry: Registry, repo: Path, iris: tuple[object, object]
) -> None:
    X, y = iris
    pipe = make_pipeline(Doubler(), LogisticRegression(max_iter=300)).fit(X.values, y)
    v = modelreg.log_model(pipe, "custom")
    assert v.card is not None and v.card["trusted_types"] == [f"{Doubler.__module__}.Doubler"]
    assert (modelreg.load_model("custom@v1.0.0").predict(X.values) == pipe.predict(X.values)).all()
    # A version whose card does not list the type (as if written by another tool): refused.
    card_path = repo / "models/custom/model.yaml"
    card = yaml.safe_load(card_path.read_text())
    card["trusted_types"] = []
    card_path.write_text(yaml.safe_dump(card))
    registry.register("custom", "models/custom")
    with pytest.raises(InvalidInputError, match=f"{Doubler.__module__}.Doubler"):
        modelreg.load_model("custom@v1.1.0")


def test_library_version_mismatch_warns(
    registry: Registry, repo: Path, iris: tuple[object, object]
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
