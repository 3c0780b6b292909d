"""Every model family exports, passes `card check` and evaluates equal to the original (1e-5)
on fresh rows: scikit-learn classifiers and regressors, XGBoost and LightGBM (optional), torch
networks with several input nodes and a masked sequence; models that cannot be converted are
refused naming the class, the reason and the fix."""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import onnxruntime as ort
import pytest

from recast.errors import CardError, UnconvertibleModelError
from recast.preserve.builder import InputBuilder
from recast.preserve.card import NetworkCard
from recast.preserve.check import check_card
from recast.preserve.session import NetworkSession
from recast.toy import toy_events

from .conftest import feature
from .docs_pages import DOCS, run_example

N_FEATURES = 3
_RNG = np.random.default_rng(20)
X_TRAIN = _RNG.standard_normal((240, N_FEATURES)).astype(np.float32)
# fresh rows, wider than the training ones: the comparison is not only on the references
X_FRESH = (1.5 * np.random.default_rng(21).standard_normal((400, N_FEATURES))).astype(np.float32)
Y_BINARY = (X_TRAIN[:, 0] + 0.5 * X_TRAIN[:, 1] > 0).astype(int)
Y_THREE = np.array(["bkg", "sig_a", "sig_b"])[
    np.digitize(X_TRAIN[:, 0] + 0.3 * X_TRAIN[:, 2], [-0.5, 0.5])
]
Y_REGRESSION = np.tanh(X_TRAIN[:, 0]) + 0.3 * X_TRAIN[:, 1] * X_TRAIN[:, 2]
Y_TWO_TARGETS = np.column_stack([Y_REGRESSION, 0.5 * X_TRAIN[:, 1] ** 2])
ATOL = 1e-5


def template(n_features: int = N_FEATURES, outputs: list[dict] | None = None) -> dict:
    """Event-level scalars f0, f1, ...; outputs left to the export unless given."""
    document: dict[str, Any] = {
        "name": "model",
        "description": "toy model",
        "inputs": [
            {
                "name": "x",
                "layout": "flat",
                "features": [
                    feature(i, f"f{i}", {"attribute": f"f{i}"}) for i in range(n_features)
                ],
            }
        ],
        "provenance": {"analysis_id": "TEST"},
    }
    if outputs is not None:
        document["outputs"] = outputs
    return document


def fitted(make: Callable[[], Any], x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():  # a few iterations are enough for toy data
        warnings.simplefilter("ignore", ConvergenceWarning)
        # scikit-learn 1.9 deprecates SVC(probability=True) (removed in 1.11); teams still have them
        warnings.filterwarnings("ignore", "The `probability` parameter", FutureWarning)
        return make().fit(x, y)


def onnx_outputs(card: NetworkCard, x: np.ndarray) -> np.ndarray:
    """The exported file run by onnxruntime on ``x``, as the card names its nodes."""
    session = ort.InferenceSession(
        str(card.model_files()[0].path), providers=["CPUExecutionProvider"]
    )
    (values,) = session.run([card.outputs[0]["name"]], {card.inputs[0]["name"]: x})
    return np.asarray(values, dtype=np.float64)


def assert_exported_equal(card: NetworkCard, original: np.ndarray, x: np.ndarray) -> None:
    report = check_card(card.source)  # raises with every problem
    assert not report.skipped
    assert any("reference set(s) reproduced" in line for line in report.checked)
    got = onnx_outputs(card, x)
    assert got.shape == original.shape
    np.testing.assert_allclose(got, original, atol=ATOL, rtol=0)


@pytest.fixture(scope="module")
def sklearn() -> Any:
    pytest.importorskip("skl2onnx", reason="scikit-learn export needs the train extra")
    import sklearn

    return sklearn


def classifiers() -> dict[str, Callable[[], Any]]:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import (
        AdaBoostClassifier,
        ExtraTreesClassifier,
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.linear_model import LogisticRegression, RidgeClassifier
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, LinearSVC
    from sklearn.tree import DecisionTreeClassifier

    trees = {"max_depth": 3, "random_state": 0}
    return {
        "LogisticRegression": LogisticRegression,
        "LinearSVC": LinearSVC,
        "SVC(probability=True)": lambda: SVC(probability=True, random_state=0),
        "SVC": SVC,
        "CalibratedClassifierCV(SVC)": lambda: CalibratedClassifierCV(SVC(), ensemble=False),
        "RidgeClassifier": RidgeClassifier,
        "KNeighborsClassifier": KNeighborsClassifier,
        "DecisionTreeClassifier": lambda: DecisionTreeClassifier(**trees),
        "RandomForestClassifier": lambda: RandomForestClassifier(n_estimators=8, **trees),
        "ExtraTreesClassifier": lambda: ExtraTreesClassifier(n_estimators=8, **trees),
        "GradientBoostingClassifier": lambda: GradientBoostingClassifier(n_estimators=15, **trees),
        "HistGradientBoostingClassifier": lambda: HistGradientBoostingClassifier(
            max_iter=15, random_state=0
        ),
        "AdaBoostClassifier": lambda: AdaBoostClassifier(n_estimators=8, random_state=0),
        "MLPClassifier": lambda: MLPClassifier(
            hidden_layer_sizes=(8,), max_iter=200, random_state=0
        ),
        "GaussianNB": GaussianNB,
        "Pipeline(StandardScaler, LogisticRegression)": lambda: make_pipeline(
            StandardScaler(), LogisticRegression()
        ),
        "Pipeline(StandardScaler, MLPClassifier)": lambda: make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=(8,), max_iter=200, random_state=0),
        ),
    }


def regressors() -> dict[str, Callable[[], Any]]:
    from sklearn.ensemble import (
        AdaBoostRegressor,
        ExtraTreesRegressor,
        GradientBoostingRegressor,
        HistGradientBoostingRegressor,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LinearRegression, Ridge
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR
    from sklearn.tree import DecisionTreeRegressor

    trees = {"max_depth": 3, "random_state": 0}
    return {
        "LinearRegression": LinearRegression,
        "Ridge": Ridge,
        "SVR": SVR,
        "KNeighborsRegressor": KNeighborsRegressor,
        "DecisionTreeRegressor": lambda: DecisionTreeRegressor(**trees),
        "RandomForestRegressor": lambda: RandomForestRegressor(n_estimators=8, **trees),
        "ExtraTreesRegressor": lambda: ExtraTreesRegressor(n_estimators=8, **trees),
        "GradientBoostingRegressor": lambda: GradientBoostingRegressor(n_estimators=15, **trees),
        "HistGradientBoostingRegressor": lambda: HistGradientBoostingRegressor(
            max_iter=15, random_state=0
        ),
        "AdaBoostRegressor": lambda: AdaBoostRegressor(n_estimators=8, random_state=0),
        "MLPRegressor": lambda: MLPRegressor(hidden_layer_sizes=(8,), max_iter=200, random_state=0),
        "Pipeline(StandardScaler, SVR)": lambda: make_pipeline(StandardScaler(), SVR()),
    }


CLASSIFIERS = [
    "LogisticRegression",
    "LinearSVC",
    "SVC(probability=True)",
    "SVC",
    "CalibratedClassifierCV(SVC)",
    "RidgeClassifier",
    "KNeighborsClassifier",
    "DecisionTreeClassifier",
    "RandomForestClassifier",
    "ExtraTreesClassifier",
    "GradientBoostingClassifier",
    "HistGradientBoostingClassifier",
    "AdaBoostClassifier",
    "MLPClassifier",
    "GaussianNB",
    "Pipeline(StandardScaler, LogisticRegression)",
    "Pipeline(StandardScaler, MLPClassifier)",
]
REGRESSORS = [
    "LinearRegression",
    "Ridge",
    "SVR",
    "KNeighborsRegressor",
    "DecisionTreeRegressor",
    "RandomForestRegressor",
    "ExtraTreesRegressor",
    "GradientBoostingRegressor",
    "HistGradientBoostingRegressor",
    "AdaBoostRegressor",
    "MLPRegressor",
    "Pipeline(StandardScaler, SVR)",
]


def original_scores(model: Any, x: np.ndarray) -> tuple[str, np.ndarray]:
    """The method a classifier's export reproduces, and its values on ``x``."""
    method = "predict_proba" if hasattr(model, "predict_proba") else "decision_function"
    return method, np.asarray(getattr(model, method)(x), dtype=np.float64).reshape(len(x), -1)


@pytest.mark.parametrize("classes", ["binary", "three"])
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_exports_one_labelled_column_per_class(
    sklearn: Any, tmp_path: Path, name: str, classes: str
) -> None:
    from recast.preserve.export import export_sklearn

    y = Y_BINARY if classes == "binary" else Y_THREE
    model = fitted(classifiers()[name], X_TRAIN, y)
    card = export_sklearn(model, template(), tmp_path)
    method, expected = original_scores(model, X_FRESH)
    node = card.outputs[0]
    labels = [c["label"] for c in node["columns"]]
    if method == "predict_proba":
        assert node["name"] == "probabilities"
        # one column per class, a binary classifier's two as well, labelled from classes_
        assert labels == (
            ["class_0", "class_1"] if classes == "binary" else ["bkg", "sig_a", "sig_b"]
        )
        assert {c["activation"] for c in node["columns"]} == {"probability"}
    else:  # decision_function: scikit-learn's one column for two classes
        assert node["name"] == "scores"
        assert labels == (["class_1"] if classes == "binary" else ["bkg", "sig_a", "sig_b"])
    reference = card.document["files"][0]["references"][0]
    assert reference["computed_by"]["name"] == "scikit-learn"
    stored = np.asarray(reference["inputs"]["x"], dtype=np.float32)
    _, original_on_references = original_scores(model, stored)
    np.testing.assert_array_equal(reference["outputs"][node["name"]], original_on_references)
    assert_exported_equal(card, expected, X_FRESH)


@pytest.mark.parametrize("name", REGRESSORS)
def test_regressor_exports_one_column_per_target(sklearn: Any, tmp_path: Path, name: str) -> None:
    from recast.preserve.export import export_sklearn

    model = fitted(regressors()[name], X_TRAIN, Y_REGRESSION)
    card = export_sklearn(model, template(), tmp_path)
    assert card.outputs[0]["name"] == "prediction"
    assert [c["label"] for c in card.outputs[0]["columns"]] == ["prediction"]
    expected = np.asarray(model.predict(X_FRESH), dtype=np.float64).reshape(-1, 1)
    assert_exported_equal(card, expected, X_FRESH)


@pytest.mark.parametrize(
    "name", ["LinearRegression", "KNeighborsRegressor", "RandomForestRegressor", "MLPRegressor"]
)
def test_regressor_with_two_targets(sklearn: Any, tmp_path: Path, name: str) -> None:
    from recast.preserve.export import export_sklearn

    model = fitted(regressors()[name], X_TRAIN, Y_TWO_TARGETS)
    card = export_sklearn(model, template(), tmp_path)
    labels = [c["label"] for c in card.outputs[0]["columns"]]
    assert labels == ["prediction_0", "prediction_1"]
    assert_exported_equal(card, np.asarray(model.predict(X_FRESH), dtype=np.float64), X_FRESH)


def test_mlp_on_one_input_column_with_its_own_output_name(sklearn: Any, tmp_path: Path) -> None:
    """The reported crash: the export renamed skl2onnx's `probabilities` where it was made but
    not where the label's ArgMax read it, and onnx refused the graph."""
    from recast.preserve.export import export_sklearn

    x, fresh = X_TRAIN[:, :1], X_FRESH[:, :1]
    outputs = [
        {
            "name": "score",
            "columns": [
                {"index": 0, "label": "background", "activation": "probability"},
                {"index": 1, "label": "signal", "activation": "probability"},
            ],
        }
    ]
    model = fitted(classifiers()["MLPClassifier"], x, Y_BINARY)
    card = export_sklearn(model, template(1, outputs), tmp_path / "classifier")
    assert [c["label"] for c in card.outputs[0]["columns"]] == ["background", "signal"]
    assert_exported_equal(card, model.predict_proba(fresh), fresh)
    # a name the converted graph already uses for another tensor
    outputs[0]["name"] = "label"
    card = export_sklearn(model, template(1, outputs), tmp_path / "label")
    assert_exported_equal(card, model.predict_proba(fresh), fresh)
    regressor = fitted(regressors()["MLPRegressor"], x, Y_REGRESSION)
    card = export_sklearn(regressor, template(1), tmp_path / "regressor")
    assert_exported_equal(card, regressor.predict(fresh).reshape(-1, 1), fresh)


def test_gradient_boosting_card_passes_its_own_check(sklearn: Any, tmp_path: Path) -> None:
    """The reported failure: a binary classifier with a one-column template exported, and the
    card (one column, references with two) failed `card check`. Now it is refused before
    anything is written, and the two-column export passes."""
    from recast.preserve.export import export_sklearn

    model = fitted(classifiers()["GradientBoostingClassifier"], X_TRAIN, Y_BINARY)
    one_column = [
        {"name": "score", "columns": [{"index": 0, "label": "signal", "activation": "sigmoid"}]}
    ]
    message = (
        "GradientBoostingClassifier gives 2 column(s), one probability column per class in "
        "classes_ [0, 1], but the template's output 'score' declares 1"
    )
    with pytest.raises(CardError, match=re.escape(message)):
        export_sklearn(model, template(outputs=one_column), tmp_path / "one")
    assert not (tmp_path / "one").exists() or not list((tmp_path / "one").iterdir())
    card = export_sklearn(model, template(), tmp_path / "two")
    assert_exported_equal(card, model.predict_proba(X_FRESH), X_FRESH)


def test_an_output_width_the_template_misstates_is_refused_for_torch_too(tmp_path: Path) -> None:
    """The general guard: the export compares the template's columns with the model's."""
    torch = pytest.importorskip("torch")
    from recast.preserve.export import export_torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(N_FEATURES, 2), torch.nn.Softmax(dim=1))
    outputs = [{"name": "score", "columns": [{"index": 0, "label": "signal"}]}]
    with pytest.raises(CardError, match=r"output 'score' is \[2\] per row but the template"):
        export_torch(net, template(outputs=outputs), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_template_labels_and_counts(sklearn: Any, tmp_path: Path) -> None:
    from recast.preserve.export import export_sklearn

    model = fitted(classifiers()["LogisticRegression"], X_TRAIN, Y_THREE)
    named = [{"name": "probabilities"}]  # a node without columns: labelled from classes_
    card = export_sklearn(model, template(outputs=named), tmp_path / "named")
    assert [c["label"] for c in card.outputs[0]["columns"]] == ["bkg", "sig_a", "sig_b"]
    with pytest.raises(CardError, match="fitted on 3 features but the template's input 'x'"):
        export_sklearn(model, template(4), tmp_path / "width")
    two = [{"name": "p", "columns": [{"index": 0, "label": "a"}, {"index": 1, "label": "b"}]}]
    with pytest.raises(CardError, match=r"labelled \['bkg', 'sig_a', 'sig_b'\]"):
        export_sklearn(model, template(outputs=two), tmp_path / "count")


def test_class_labels() -> None:
    from recast.preserve.export_sklearn import class_labels

    assert class_labels(np.array([0, 1])) == ["class_0", "class_1"]
    assert class_labels(np.array(["signal", "ttbar"])) == ["signal", "ttbar"]
    assert class_labels([-1, 0.5, "my class", "2b"]) == [
        "class_-1",
        "class_0.5",
        "class_my_class",
        "class_2b",
    ]


def test_labels_are_fields_of_the_scores(sklearn: Any, tmp_path: Path) -> None:
    """Evaluated on events through the card: one field per class label."""
    from recast.preserve.export import export_sklearn

    model = fitted(classifiers()["RandomForestClassifier"], X_TRAIN, Y_THREE)
    card = export_sklearn(model, template(), tmp_path)
    events = ak.zip({f"f{i}": X_FRESH[:, i].astype(np.float64) for i in range(N_FEATURES)})
    scores = NetworkSession(card).evaluate(events)
    expected = model.predict_proba(X_FRESH)
    for k, label in enumerate(["bkg", "sig_a", "sig_b"]):
        np.testing.assert_allclose(ak.to_numpy(scores[label]), expected[:, k], atol=ATOL, rtol=0)


# -- refused models -------------------------------------------------------------------------


def refused_models() -> dict[str, tuple[Callable[[], Any], str]]:
    """name -> (a model to export, what the message must say)."""
    from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
    from sklearn.cluster import KMeans
    from sklearn.ensemble import RandomForestClassifier, VotingClassifier
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.tree import DecisionTreeClassifier

    class ThresholdClassifier(ClassifierMixin, BaseEstimator):
        """A team's own classifier: fitted, with probabilities, unknown to skl2onnx."""

        def fit(self, x: np.ndarray, y: np.ndarray) -> ThresholdClassifier:
            self.classes_ = np.unique(y)
            self.n_features_in_ = x.shape[1]
            return self

        def predict_proba(self, x: np.ndarray) -> np.ndarray:
            p = 1 / (1 + np.exp(-x[:, 0]))
            return np.column_stack([1 - p, p])

        def predict(self, x: np.ndarray) -> np.ndarray:
            return self.classes_[(x[:, 0] > 0).astype(int)]

    class Doubler(TransformerMixin, BaseEstimator):
        def fit(self, x: np.ndarray, y: Any = None) -> Doubler:
            self.n_features_in_ = x.shape[1]
            return self

        def transform(self, x: np.ndarray) -> np.ndarray:
            return 2 * x

    class NotAnEstimator:
        def predict(self, x: np.ndarray) -> np.ndarray:
            return x[:, 0]

    y = Y_BINARY
    return {
        "own class": (
            lambda: ThresholdClassifier().fit(X_TRAIN, y),
            "ThresholdClassifier cannot be exported: skl2onnx has no converter for "
            "ThresholdClassifier. ",
        ),
        "no converter": (
            lambda: KernelRidge().fit(X_TRAIN, Y_REGRESSION),
            "KernelRidge cannot be exported: skl2onnx has no converter for KernelRidge. ",
        ),
        "own pipeline step": (
            lambda: make_pipeline(Doubler(), LogisticRegression()).fit(X_TRAIN, y),
            "Pipeline cannot be exported: skl2onnx has no converter for Doubler (a step or "
            "member of it). ",
        ),
        "not fitted": (
            LogisticRegression,
            "LogisticRegression cannot be exported: it is not fitted. Call fit(X, y)",
        ),
        "not fitted pipeline": (
            lambda: make_pipeline(Doubler(), LogisticRegression()),
            "Pipeline cannot be exported: it is not fitted.",
        ),
        "clusterer": (
            lambda: KMeans(n_clusters=2, n_init=1, random_state=0).fit(X_TRAIN),
            "KMeans cannot be exported: it is neither a classifier nor a regressor",
        ),
        "labels only": (
            lambda: VotingClassifier(
                [("a", LogisticRegression()), ("b", DecisionTreeClassifier(max_depth=2))],
                voting="hard",
            ).fit(X_TRAIN, y),
            "VotingClassifier cannot be exported: it gives neither class probabilities",
        ),
        "multi-output": (
            lambda: RandomForestClassifier(n_estimators=2, random_state=0).fit(
                X_TRAIN, np.column_stack([y, 1 - y])
            ),
            "RandomForestClassifier cannot be exported: it is a multi-output classifier",
        ),
        "not an estimator": (
            NotAnEstimator,
            "NotAnEstimator cannot be exported: it is not a scikit-learn estimator",
        ),
    }


REFUSED = [
    "own class",
    "no converter",
    "own pipeline step",
    "not fitted",
    "not fitted pipeline",
    "clusterer",
    "labels only",
    "multi-output",
    "not an estimator",
]


@pytest.mark.parametrize("case", REFUSED)
def test_an_unconvertible_model_is_refused_by_name(sklearn: Any, tmp_path: Path, case: str) -> None:
    from recast.preserve.export import export_sklearn

    make, says = refused_models()[case]
    model = make()
    with pytest.raises(UnconvertibleModelError) as caught:
        export_sklearn(model, template(), tmp_path / "out")
    message = str(caught.value)
    assert message.startswith("export of model: ")
    assert says in message
    # the reason comes with a fix, and no traceback of skl2onnx or onnx rides along
    assert re.search(r"\. [A-Z]", message.split("cannot be exported: ", 1)[1])
    error = caught.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    assert not (tmp_path / "out").exists()


# -- XGBoost and LightGBM (the optional extra `trees`) ---------------------------------------


def boosters() -> dict[str, tuple[str, Callable[[], Any]]]:
    def xgb(kind: str) -> Callable[[], Any]:
        def make() -> Any:
            import xgboost

            cls = xgboost.XGBClassifier if kind == "classifier" else xgboost.XGBRegressor
            return cls(n_estimators=15, max_depth=3, n_jobs=1, random_state=0)

        return make

    def lgbm(kind: str) -> Callable[[], Any]:
        def make() -> Any:
            import lightgbm

            cls = lightgbm.LGBMClassifier if kind == "classifier" else lightgbm.LGBMRegressor
            return cls(n_estimators=15, num_leaves=8, n_jobs=1, verbose=-1, random_state=0)

        return make

    return {
        "XGBClassifier": ("xgboost", xgb("classifier")),
        "XGBRegressor": ("xgboost", xgb("regressor")),
        "LGBMClassifier": ("lightgbm", lgbm("classifier")),
        "LGBMRegressor": ("lightgbm", lgbm("regressor")),
    }


def needs(package: str) -> None:
    pytest.importorskip(package, reason=f"{package} is in the optional extra `trees`")
    pytest.importorskip("onnxmltools", reason="onnxmltools is in the optional extra `trees`")


BOOSTED = [
    ("XGBClassifier", "binary"),
    ("XGBClassifier", "three"),
    ("XGBRegressor", "regression"),
    ("LGBMClassifier", "binary"),
    ("LGBMClassifier", "three"),
    ("LGBMRegressor", "regression"),
]


@pytest.mark.parametrize(("name", "target"), BOOSTED)
def test_xgboost_and_lightgbm(sklearn: Any, tmp_path: Path, name: str, target: str) -> None:
    from recast.preserve.export import export_sklearn

    package, make = boosters()[name]
    needs(package)
    y = {"binary": Y_BINARY, "three": Y_THREE, "regression": Y_REGRESSION}[target]
    if package == "xgboost" and target == "three":
        y = np.searchsorted(np.unique(y), y)  # XGBoost takes classes 0..k-1 only
    model = fitted(make, X_TRAIN, y)
    card = export_sklearn(model, template(), tmp_path)
    assert card.document["files"][0]["references"][0]["computed_by"]["name"] == package
    if target == "regression":
        expected = np.asarray(model.predict(X_FRESH), dtype=np.float64).reshape(-1, 1)
    else:
        expected = model.predict_proba(X_FRESH)
        assert len(card.outputs[0]["columns"]) == len(np.unique(y))
    assert_exported_equal(card, expected, X_FRESH)


def test_xgboost_in_a_pipeline_and_unfitted(sklearn: Any, tmp_path: Path) -> None:
    needs("xgboost")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from recast.preserve.export import export_sklearn

    make = boosters()["XGBClassifier"][1]
    model = fitted(lambda: make_pipeline(StandardScaler(), make()), X_TRAIN, Y_BINARY)
    card = export_sklearn(model, template(), tmp_path / "pipeline")
    assert_exported_equal(card, model.predict_proba(X_FRESH), X_FRESH)
    with pytest.raises(
        UnconvertibleModelError, match="XGBClassifier cannot be exported: it is not"
    ):
        export_sklearn(make(), template(), tmp_path / "unfitted")


def test_a_booster_without_onnxmltools_says_what_to_install(
    sklearn: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs("xgboost")
    from recast.errors import MissingDependencyError
    from recast.preserve.export import export_sklearn

    model = fitted(boosters()["XGBClassifier"][1], X_TRAIN, Y_BINARY)
    monkeypatch.setitem(sys.modules, "onnxmltools", None)  # as if it were not installed
    with pytest.raises(MissingDependencyError, match=re.escape("pip install 'recast-nn[trees]'")):
        export_sklearn(model, template(), tmp_path)


# -- torch: several input nodes, a sequence with its mask ------------------------------------

SLOTS = 4


def sequence_template() -> dict:
    """Up to four pT-ordered jets (pT, η) as a sequence, their mask, and the MET as a flat
    node: three input nodes, in the order the network's forward takes them."""
    ordering = {"by": "pt", "descending": True}
    jets = [
        feature(
            0,
            "pt",
            {"attribute": "pt"},
            "GeV",
            {"formula": "(x - mean) / std", "mean": 60.0, "std": 40.0},
            padding={"value": 0.0, "stage": "after_preprocessing"},
        ),
        feature(
            1,
            "eta",
            {"attribute": "eta"},
            padding={"value": -5.0, "stage": "after_preprocessing"},
        ),
    ]
    met = [
        feature(
            0,
            "met",
            {"collection": "met", "attribute": "pt"},
            "GeV",
            {"formula": "(x - mean) / std", "mean": 80.0, "std": 50.0},
        ),
        feature(1, "met_phi", {"collection": "met", "attribute": "phi"}, "rad"),
    ]
    return {
        "name": "jets_seq",
        "description": "a deep-sets network on jets with their mask, and the MET",
        "inputs": [
            {
                "name": "jets",
                "layout": "sequence",
                "collection": "small_R_jets",
                "ordering": ordering,
                "max_count": SLOTS,
                "features": jets,
            },
            {
                "name": "mask",
                "layout": "mask",
                "collection": "small_R_jets",
                "ordering": ordering,
                "max_count": SLOTS,
            },
            {"name": "event", "layout": "flat", "features": met},
        ],
        "outputs": [
            {"name": "score", "columns": [{"index": 0, "label": "signal", "activation": "sigmoid"}]}
        ],
        "provenance": {"analysis_id": "TEST"},
    }


def test_torch_with_a_masked_sequence_and_a_flat_node(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from recast.preserve.export import export_torch

    class DeepSets(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(2)
            self.phi = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh())
            self.rho = torch.nn.Sequential(torch.nn.Linear(8 + 2, 1), torch.nn.Sigmoid())

        def forward(
            self, jets: torch.Tensor, mask: torch.Tensor, event: torch.Tensor
        ) -> torch.Tensor:
            pooled = (self.phi(jets) * mask.unsqueeze(-1)).sum(dim=1)  # padded jets count 0
            return self.rho(torch.cat([pooled, event], dim=1))

    net = DeepSets()
    card = export_torch(net, sequence_template(), tmp_path)
    assert [n["shape"] for n in card.inputs] == [[None, SLOTS, 2], [None, SLOTS], [None, 2]]
    check_card(card.source)
    events = toy_events(300, seed=5)
    built = InputBuilder(card).build(events).at()
    n_jets = ak.to_numpy(ak.num(events.small_R_jets))
    assert (n_jets < SLOTS).sum() > 20  # the mask really masks
    np.testing.assert_array_equal(built["mask"].sum(axis=1), np.minimum(n_jets, SLOTS))
    with torch.no_grad():
        expected = net(*(torch.from_numpy(built[k]) for k in ("jets", "mask", "event")))
    scores = NetworkSession(card).evaluate(events)
    np.testing.assert_allclose(
        ak.to_numpy(scores.signal), expected.numpy()[:, 0], atol=ATOL, rtol=0
    )


# -- the docs page's example -----------------------------------------------------------------


def test_preserving_page_sklearn_example_runs(
    sklearn: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    page = (DOCS / "preserving.md").read_text()
    section = page.split("## Exporting scikit-learn, gradient-boosted trees")[1].split("\n## ")[0]
    code = "\n".join(re.findall(r"```python\n(.*?)```", section, re.S))
    assert "export_sklearn(bdt, bdt_template" in code
    run_example(code, tmp_path, monkeypatch)
    printed = capsys.readouterr().out
    assert "[('background', 'probability'), ('signal', 'probability')]" in printed
    assert "200 True" in printed
    assert (
        "It prints `[('background', 'probability'), ('signal', 'probability')]` and `200 True`"
        in page
    )
    check_card(tmp_path / "published" / "example_bdt.card.json")
