"""The classification losses of ``--loss`` beyond what ``tests/test_common.py`` checks for
every loss: extreme inputs, hinge targets of -1/+1, and the parameters' ranges and owners."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import rel_entr
from sklearn.metrics import hinge_loss, log_loss
from sklearn.utils.class_weight import compute_class_weight

import lossctl
from lossctl.errors import (
    ConflictingOptions,
    InvalidOption,
    LossNotForTask,
    NoSampleOfClass,
    ParameterWithoutLoss,
    WrongColumnCount,
)
from tests.cli.helpers import run_eval

Z = np.array([1e4, -1e4, 1e4, -1e4, 0.0])
Y = np.array([1, 1, 0, 0, 1])


def test_focal_of_extreme_logits_is_finite_and_exact() -> None:
    report = lossctl.evaluate(Z, Y, loss="focal", gamma=2.0, from_logits=True)
    assert report.losses is not None
    # (1 - p_t)^2 (-log p_t): 0 when right; 1e4 (p_t = e^-1e4, 1 - p_t = 1) when wrong
    np.testing.assert_allclose(report.losses, [0.0, 1e4, 1e4, 0.0, 0.25 * np.log(2.0)])
    gamma0 = lossctl.evaluate(Z, Y, loss="focal", gamma=0.0, from_logits=True)
    plain = lossctl.evaluate(Z, Y, from_logits=True)
    assert gamma0.losses is not None and plain.losses is not None
    np.testing.assert_array_equal(gamma0.losses, plain.losses)


def test_focal_of_probabilities_0_and_1() -> None:
    p = np.array([1.0, 0.0, 1.0, 0.0])
    y = np.array([1, 1, 0, 0])
    report = lossctl.evaluate(p, y, loss="focal", from_logits=False)
    assert report.losses is not None
    big = -np.log(np.finfo(np.float64).eps)
    np.testing.assert_allclose(report.losses, [0.0, big, big, 0.0], atol=1e-12)
    assert report.n_clipped == 4


def test_multiclass_focal_and_smoothing_of_extreme_logits() -> None:
    z = np.array([[1e4, -1e4, 0.0]] * 3)
    y = np.array([0, 1, 2])
    focal = lossctl.evaluate(z, y, loss="focal", gamma=2.0)
    assert focal.losses is not None
    np.testing.assert_allclose(focal.losses, [0.0, 2e4, 1e4])
    smooth = lossctl.evaluate(z, y, label_smoothing=0.3)
    assert smooth.losses is not None
    # (1 - s) (lse - z[y]) + (s / K) sum_k (lse - z_k), lse = 1e4
    rest = (0.3 / 3) * (0.0 + 2e4 + 1e4)
    np.testing.assert_allclose(smooth.losses, [rest, 0.7 * 2e4 + rest, 0.7 * 1e4 + rest])


def test_pos_weight_of_extreme_logits() -> None:
    report = lossctl.evaluate(Z, Y, pos_weight=3.0, from_logits=True)
    assert report.losses is not None
    np.testing.assert_allclose(report.losses, [0.0, 3e4, 1e4, 0.0, 3.0 * np.log(2.0)])


def test_hinge_reads_minus_one_and_plus_one_with_task_binary() -> None:
    scores = np.array([0.3, -2.0, 1.5, -0.2])
    y = np.array([-1, 1, 1, -1])
    report = lossctl.evaluate(scores, y, loss="hinge", task="binary")
    assert report.mean_loss == pytest.approx(hinge_loss(y, scores), rel=1e-12)
    zero_one = lossctl.evaluate(scores, (y > 0).astype(int), loss="hinge")
    assert zero_one.mean_loss == pytest.approx(report.mean_loss, rel=1e-12)
    assert report.null_loss == pytest.approx(1.0)  # 2 min(pi, 1 - pi), pi = 1/2


def test_pos_weight_per_label_by_name(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("a,b\n0.9,0.2\n0.4,0.7\n")
    (tmp_path / "t.csv").write_text("a,b\n1,0\n0,1\n")
    args = [str(tmp_path / "p.csv"), str(tmp_path / "t.csv"), "--format", "json"]
    by_name = json.loads(run_eval(*args, "--pos-weight", "b=3,a=2").stdout)
    by_order = json.loads(run_eval(*args, "--pos-weight", "2,3").stdout)
    assert by_name == by_order
    assert by_name["loss_params"] == {"pos_weight": [2.0, 3.0]}
    expected = 2.0 * -np.log(0.9) - np.log(0.8) - np.log(0.6) + 3.0 * -np.log(0.7)
    assert by_name["mean_loss"] == pytest.approx(expected / 2.0, rel=1e-12)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"loss": "focal", "gamma": -1.0}, InvalidOption, "--gamma -1 is out of range"),
        ({"loss": "focal", "alpha": 1.5}, InvalidOption, "--alpha 1.5 is out of range"),
        ({"label_smoothing": 2.0}, InvalidOption, "--label-smoothing 2 is out of range"),
        ({"pos_weight": "1,2"}, InvalidOption, "--pos-weight gives 2 values for 1 columns"),
        ({"pos_weight": "x=2"}, InvalidOption, "--pos-weight: 'x' is not a prediction column"),
        ({"pos_weight": 0.0}, InvalidOption, "--pos-weight 0 is out of range"),
        ({"loss": "hinge", "gamma": 1.0}, ParameterWithoutLoss, "--gamma is a parameter of"),
        ({"label_smoothing": 0.1}, ParameterWithoutLoss, "--label-smoothing is a parameter of"),
        ({"loss": "ce"}, LossNotForTask, "--loss ce is a multiclass loss"),
    ],
)
def test_bad_parameters(options: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match="^" + message.replace("(", r"\(")):
        lossctl.evaluate(np.array([0.2, 0.7]), np.array([0, 1]), **options)  # type: ignore[arg-type]


def test_the_command_line_says_each_bad_parameter_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("p\n0.2\n0.7\n")
    (tmp_path / "t.csv").write_text("y\n0\n1\n")
    for args, words in (
        (["--loss", "focal", "--gamma", "-1"], "--gamma -1 is out of range. Give a value >= 0"),
        (["--quantile", "1.5"], "--quantile is a parameter of --loss quantile"),
        (["--loss", "huber"], "--loss huber is a regression loss"),
    ):
        result = run_eval(str(tmp_path / "p.csv"), str(tmp_path / "t.csv"), *args)
        assert result.exit_code == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert words in result.stderr


# --class-weight ---------------------------------------------------------------------------

CLASSES = ("cat", "dog", "bird")


def _classes(n: int = 90, seed: int = 4) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(3), n)
    y = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    w = rng.uniform(0.0, 2.0, n)
    preds = pd.DataFrame(p, columns=list(CLASSES))
    preds["g"] = np.where(np.arange(n) % 2 == 0, "even", "odd")
    targets = pd.DataFrame({"label": np.array(CLASSES)[y], "w": w})
    return preds, targets, y


def test_balanced_class_weights_are_scikit_learns() -> None:
    preds, targets, y = _classes()
    p = preds[list(CLASSES)].to_numpy()
    cw = compute_class_weight("balanced", classes=np.arange(3), y=y)
    report = lossctl.evaluate(
        preds, targets, pred_cols=CLASSES, target_cols="label", class_weight="balanced"
    )
    assert report.mean_loss == pytest.approx(log_loss(y, p, sample_weight=cw[y]), rel=1e-12)
    assert report.to_dict()["loss_params"]["class_weight"] == pytest.approx(list(cw))
    assert report.weighted
    plain = lossctl.evaluate(preds, targets, pred_cols=CLASSES, target_cols="label")
    assert report.losses is not None and plain.losses is not None
    np.testing.assert_array_equal(report.losses, plain.losses)  # per sample: no weight
    both = lossctl.evaluate(
        preds,
        targets,
        pred_cols=CLASSES,
        target_cols="label",
        weight_col="w",
        class_weight="balanced",
    )
    w = targets["w"].to_numpy() * cw[y]
    assert both.mean_loss == pytest.approx(log_loss(y, p, sample_weight=w), rel=1e-12)
    rate = np.bincount(y, weights=w, minlength=3) / np.sum(w)
    null = log_loss(y, np.tile(rate, (y.size, 1)), sample_weight=w)
    assert both.null_loss == pytest.approx(null, rel=1e-12)


def test_class_weights_by_name_by_order_and_from_a_file(tmp_path: Path) -> None:
    preds, targets, y = _classes()
    p = preds[list(CLASSES)].to_numpy()
    (tmp_path / "weights.csv").write_text("class,weight\nbird,5\ncat,1\ndog,2\n")
    expected = log_loss(y, p, sample_weight=np.array([1.0, 2.0, 5.0])[y])
    for given in ("dog=2,cat=1,bird=5", "1,2,5", str(tmp_path / "weights.csv")):
        report = lossctl.evaluate(
            preds, targets, pred_cols=CLASSES, target_cols="label", class_weight=given
        )
        assert report.mean_loss == pytest.approx(expected, rel=1e-12), given
        assert report.to_dict()["loss_params"] == {"class_weight": [1.0, 2.0, 5.0]}


def test_class_weights_do_not_depend_on_chunks_groups_or_baseline() -> None:
    preds, targets, _ = _classes()
    baseline = preds.copy()
    baseline[list(CLASSES)] = np.roll(preds[list(CLASSES)].to_numpy(), 1, axis=0)

    def run(chunk_rows: int) -> lossctl.Report:
        return lossctl.evaluate(
            preds,
            targets,
            pred_cols=CLASSES,
            target_cols="label",
            weight_col="w",
            by="g",
            baseline=baseline,
            n_bootstrap=30,
            class_weight="balanced",
            chunk_rows=chunk_rows,
        )

    whole, chunked = run(65536), run(7)
    assert chunked.mean_loss == pytest.approx(whole.mean_loss, rel=1e-12)
    assert chunked.null_loss == pytest.approx(whole.null_loss, rel=1e-12)
    assert whole.baseline is not None and chunked.baseline is not None
    assert chunked.baseline.mean_loss == pytest.approx(whole.mean_loss, rel=1e-12)
    assert chunked.baseline.difference == pytest.approx(whole.baseline.difference, rel=1e-9)
    for a, b in zip(chunked.summary.by_groups, whole.summary.by_groups, strict=True):
        assert a.mean_loss == pytest.approx(b.mean_loss, rel=1e-12)


@pytest.mark.parametrize(
    ("given", "error", "words"),
    [
        ("cat=1,dog=2,cow=3", InvalidOption, "--class-weight: 'cow' is not a prediction column"),
        ("cat=1,dog=2", InvalidOption, "--class-weight: 'bird' is not given a value"),
        ("cat=1,dog=-2,bird=1", InvalidOption, "--class-weight -2 is out of range"),
        ("nonsense", InvalidOption, "--class-weight 'nonsense' is not balanced, NAME=W"),
    ],
)
def test_bad_class_weights(given: str, error: type[Exception], words: str) -> None:
    preds, targets, _ = _classes()
    with pytest.raises(error, match="^" + words):
        lossctl.evaluate(preds, targets, pred_cols=CLASSES, target_cols="label", class_weight=given)


def test_balanced_needs_a_sample_of_every_class() -> None:
    preds, targets, y = _classes()
    keep = y != 2
    with pytest.raises(NoSampleOfClass, match="'bird' has none"):
        lossctl.evaluate(
            preds[keep],
            targets[keep],
            pred_cols=CLASSES,
            target_cols="label",
            class_weight="balanced",
        )


# soft targets and kl ----------------------------------------------------------------------

SOFT_PREDS = pd.DataFrame({"cat": [0.7, 0.1, 0.3], "dog": [0.2, 0.8, 0.3], "bird": [0.1, 0.1, 0.4]})
SOFT_TARGETS = pd.DataFrame(
    {"dog": [0.1, 0.5, 0.0], "cat": [0.9, 0.25, 0.0], "bird": [0.0, 0.25, 1.0]}
)


def test_soft_targets_are_opt_in_and_the_reasons_say_how() -> None:
    auto = lossctl.evaluate(SOFT_PREDS, SOFT_TARGETS)
    assert auto.task == "regression"
    assert "--task multiclass reads them as such" in auto.reasons[-1]
    soft = lossctl.evaluate(SOFT_PREDS, SOFT_TARGETS, task="multiclass")
    assert (soft.task, soft.target_encoding) == ("multiclass", "probabilities")
    t = SOFT_TARGETS[["cat", "dog", "bird"]].to_numpy()  # matched by name
    p = SOFT_PREDS.to_numpy()
    assert soft.mean_loss == pytest.approx(np.mean(-np.sum(t * np.log(p), axis=1)), rel=1e-12)
    kl = lossctl.evaluate(SOFT_PREDS, SOFT_TARGETS, loss="kl")
    assert kl.task == "multiclass"
    assert kl.mean_loss == pytest.approx(np.mean(np.sum(rel_entr(t, p), axis=1)), rel=1e-12)


def test_kl_of_class_targets_is_the_cross_entropy() -> None:
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    y = np.array([0, 2, 1])
    kl, ce = lossctl.evaluate(p, y, loss="kl"), lossctl.evaluate(p, y)
    assert kl.losses is not None and ce.losses is not None
    np.testing.assert_allclose(kl.losses, ce.losses, rtol=1e-15)
    assert kl.null_loss == pytest.approx(ce.null_loss, rel=1e-15)


def test_soft_targets_need_the_prediction_columns_names_and_a_class_free_loss() -> None:
    other = SOFT_TARGETS.rename(columns={"dog": "p1", "cat": "p2", "bird": "p3"})
    with pytest.raises(WrongColumnCount, match="need the prediction columns' names"):
        lossctl.evaluate(SOFT_PREDS, other, task="multiclass")
    with pytest.raises(LossNotForTask, match="--loss focal needs a class per sample"):
        lossctl.evaluate(SOFT_PREDS, SOFT_TARGETS, task="multiclass", loss="focal")
    with pytest.raises(ConflictingOptions, match="--class-weight weighs each sample"):
        lossctl.evaluate(SOFT_PREDS, SOFT_TARGETS, task="multiclass", class_weight="1,2,3")
