"""The regression losses of ``--loss`` beyond what ``tests/test_common.py`` checks for every
loss: scikit-learn's D^2 scores, its domain checks (the same inputs accepted and refused),
extreme inputs, and the parameters' ranges."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import d2_tweedie_score, mean_tweedie_deviance

import lossctl
from lossctl.errors import (
    InvalidOption,
    LossNotForTask,
    NoNullModel,
    OutsideLossDomain,
    ParameterWithoutLoss,
)
from tests.cli.helpers import run_eval

POWERS = (-1.0, 0.0, 1.0, 1.5, 2.0, 3.0)


@pytest.mark.parametrize("power", POWERS)
@pytest.mark.parametrize("weighted", [False, True])
def test_d2_is_scikit_learns_d2_tweedie_score(power: float, weighted: bool) -> None:
    rng = np.random.default_rng(3)
    y = rng.gamma(2.0, 2.0, 80)
    pred = y * np.exp(rng.normal(0.0, 0.4, 80))
    w = rng.uniform(0.0, 3.0, 80) if weighted else None
    targets = {"y": y} if w is None else {"y": y, "w": w}
    import pandas as pd

    report = lossctl.evaluate(
        pred,
        pd.DataFrame(targets),
        loss="tweedie",
        power=power,
        weight_col="w" if weighted else None,
    )
    assert report.mean_loss == pytest.approx(
        mean_tweedie_deviance(y, pred, sample_weight=w, power=power), rel=1e-10
    )
    assert report.d2 == pytest.approx(
        d2_tweedie_score(y, pred, sample_weight=w, power=power), rel=1e-9
    )
    for name, p in (("poisson", 1.0), ("gamma", 2.0)):
        if power == p:
            same = lossctl.evaluate(
                pred, pd.DataFrame(targets), loss=name, weight_col="w" if weighted else None
            )
            assert same.mean_loss == pytest.approx(report.mean_loss, rel=1e-12)
            assert same.d2 == pytest.approx(report.d2, rel=1e-12)


# Values on and around the edges of the domains: (target, prediction) pairs.
EDGES = [(y, p) for y in (-2.0, -1.0, -0.5, 0.0, 0.5, 3.0) for p in (-2.0, -1.0, -0.5, 0.0, 2.0)]


def _sklearn_accepts(loss: str, power: float, y: float, p: float) -> bool:
    from sklearn.metrics import mean_squared_log_error

    ys, ps = np.array([y, 1.0]), np.array([p, 1.0])
    try:
        if loss == "msle":
            mean_squared_log_error(ys, ps)
        else:
            mean_tweedie_deviance(ys, ps, power=power)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    ("loss", "power"),
    [("msle", None), ("poisson", 1.0), ("gamma", 2.0), *(("tweedie", p) for p in POWERS)],
)
def test_domains_are_scikit_learns(loss: str, power: float | None) -> None:
    for y, p in EDGES:
        params = {} if power is None or loss != "tweedie" else {"power": power}
        expected = _sklearn_accepts(loss, power if power is not None else 0.0, y, p)
        args = (np.array([p, 1.0]), np.array([y, 1.0]))
        if expected:
            report = lossctl.evaluate(*args, task="regression", loss=loss, **params)
            assert np.isfinite(report.mean_loss), (loss, power, y, p)
        else:
            with pytest.raises(OutsideLossDomain):
                lossctl.evaluate(*args, task="regression", loss=loss, **params)


def test_the_domain_error_names_the_file_column_and_row(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("p\n1\n2\n-3\n0\n")
    (tmp_path / "t.csv").write_text("y\n1\n2\n3\n4\n")
    result = run_eval(str(tmp_path / "p.csv"), str(tmp_path / "t.csv"), "--loss", "gamma")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"lossctl: error: {tmp_path / 'p.csv'}, column 'p', row 3: this prediction is outside "
        "the domain of --loss gamma (predictions > 0) (2 rows affected). Choose a loss whose "
        "domain holds these values, such as mse"
    )


def test_extreme_values_give_finite_exact_losses() -> None:
    y = np.array([0.0, 0.0, 0.0])
    p = np.array([800.0, -1e4, 1e-9])
    cosh = lossctl.evaluate(p, y, task="regression", loss="log_cosh").losses
    assert cosh is not None
    np.testing.assert_allclose(cosh, [800.0 - np.log(2.0), 1e4 - np.log(2.0), 5e-19], rtol=1e-12)
    huber = lossctl.evaluate(p, y, task="regression", loss="huber", delta=2.0).losses
    assert huber is not None
    np.testing.assert_allclose(huber, [2.0 * 799.0, 2.0 * (1e4 - 1.0), 5e-19], rtol=1e-12)
    l1 = lossctl.evaluate(p, y, task="regression", loss="smooth_l1", beta=0.0).losses
    assert l1 is not None and l1.tolist() == [800.0, 1e4, 1e-9]
    mape = lossctl.evaluate(np.array([1.0]), np.array([0.0]), task="regression", loss="mape")
    assert mape.mean_loss == pytest.approx(1.0 / np.finfo(np.float64).eps)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"loss": "huber", "delta": 0.0}, "--delta 0 is out of range. Give a value > 0"),
        ({"loss": "smooth_l1", "beta": -1.0}, "--beta -1 is out of range"),
        ({"loss": "quantile", "quantile": 1.0}, "--quantile 1 is out of range. Give a value in"),
        ({"loss": "quantile", "quantile": 0.0}, "--quantile 0 is out of range"),
        ({"loss": "tweedie", "power": 0.5}, "--power 0.5 is out of range. Give a value <= 0 or"),
        ({"loss": "tweedie", "power": float("nan")}, "--power nan is out of range"),
    ],
)
def test_parameters_out_of_range(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidOption, match="^" + message.replace("(", r"\(")):
        lossctl.evaluate(np.array([1.0, 2.0]), np.array([1.5, 2.5]), **options)  # type: ignore[arg-type]


def test_a_parameter_without_its_loss() -> None:
    with pytest.raises(ParameterWithoutLoss, match="--quantile is a parameter of --loss quantile"):
        lossctl.evaluate(np.array([1.0, 2.0]), np.array([1.5, 2.5]), loss="mae", quantile=0.3)
    with pytest.raises(ParameterWithoutLoss, match="not of the default loss"):
        lossctl.evaluate(np.array([1.0, 2.0]), np.array([1.5, 2.5]), power=1.5)


def test_a_loss_of_another_task() -> None:
    with pytest.raises(LossNotForTask, match="task given by --task is binary"):
        lossctl.evaluate(np.array([0.2, 0.7]), np.array([0, 1]), task="binary", loss="mae")
    with pytest.raises(LossNotForTask, match="add --task regression"):
        lossctl.evaluate(np.array([0.2, 0.7]), np.array([0, 1]), loss="poisson")
    report = lossctl.evaluate(np.array([0.2, 0.7]), np.array([0, 1]), task="regression", loss="mae")
    assert report.mean_loss == pytest.approx(0.25)
    with pytest.raises(LossNotForTask, match="--loss mse is a regression loss"):
        lossctl.evaluate(np.array([0.2, 0.7]), np.array([0, 1]), loss="mse")


def test_min_d2_needs_a_null_model() -> None:
    with pytest.raises(NoNullModel):
        lossctl.evaluate(np.array([1.0]), np.array([1.5]), loss="quantile", min_d2=0.1)
    report = lossctl.evaluate(
        np.array([1.0, 2.0]), np.array([1.5, 2.5]), loss="poisson", min_d2=-10.0
    )
    assert report.passed


def test_the_command_line_writes_per_sample_losses_and_the_json(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("id,p\na,1\nb,2\nc,4\n")
    (tmp_path / "t.csv").write_text("id,y\nc,3\na,2\nb,2\n")
    out = tmp_path / "losses.csv"
    args = [str(tmp_path / "p.csv"), str(tmp_path / "t.csv"), "--loss", "quantile"]
    result = run_eval(*args, "--quantile", "0.25", "--format", "json", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["loss"], doc["loss_params"]) == ("quantile", {"quantile": 0.25})
    assert doc["null_loss"] is None and doc["d2"] is None and "quantile" in doc["null_reason"]
    assert out.read_text() == "id,loss\na,0.25\nb,0\nc,0.75\n"
    assert doc["mean_loss"] == pytest.approx(1.0 / 3.0)


def test_lossctl_losses_lists_every_loss() -> None:
    from typer.testing import CliRunner

    from lossctl.cli import app

    result = CliRunner().invoke(app, ["losses", "--format", "json"])
    names = [row["loss"] for row in json.loads(result.stdout)["losses"]]
    for name in ("mae", "huber", "smooth_l1", "log_cosh", "quantile", "msle", "mape"):
        assert name in names
    assert {"poisson", "gamma", "tweedie"} <= set(names)


def test_a_baseline_outside_the_domain_is_named_too(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("id,p\na,1.5\nb,2\nc,0.5\n")
    (tmp_path / "b.csv").write_text("id,p\na,1.5\nb,-2\nc,0.5\n")
    (tmp_path / "t.csv").write_text("id,y\na,1\nb,2\nc,0\n")
    p, b, t = (str(tmp_path / name) for name in ("p.csv", "b.csv", "t.csv"))
    result = run_eval(p, t, "--loss", "poisson", "--baseline", b)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"lossctl: error: {b}, column 'p', row 2: this prediction")
    with pytest.raises(OutsideLossDomain):
        lossctl.evaluate(p, t, loss="poisson", baseline=b)
    assert lossctl.evaluate(p, t, loss="poisson", baseline=p).baseline is not None
