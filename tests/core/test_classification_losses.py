"""The classification losses of ``--loss`` beyond what ``tests/test_common.py`` checks for
every loss: extreme inputs, hinge targets of -1/+1, and the parameters' ranges and owners."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import hinge_loss

import lossctl
from lossctl.errors import InvalidOption, LossNotForTask, ParameterWithoutLoss
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
