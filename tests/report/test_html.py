"""The HTML report (``--report FILE.html``, ``Report.to_html``) and a report in a notebook.

The page is opened in a real browser, headless Chromium from the operating system's
packages (``.ci/run`` installs it), with the network cut: it renders without console
errors, and every chart holds drawn shapes (SVG paths) once loaded.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import lossctl
from tests.cli.helpers import assert_one_error_line, run_eval

ROOT = Path(__file__).resolve().parents[2]
CLASSES = [str(ROOT / "sample_data" / n) for n in ("multiclass_probs.csv", "multiclass_labels.csv")]
LABELS = [str(ROOT / "sample_data" / n) for n in ("multilabel_probs.csv", "multilabel_labels.csv")]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # the network cut: no name resolves, and every connection goes to a closed port
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--enable-logging=stderr",
    "--v=0",
]

needs_extra = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None, reason="the [report] extra"
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="chromium (CI installs it)"
)


def _page(tmp_path: Path, *args: str, name: str = "report.html") -> str:
    out = tmp_path / name
    result = run_eval(*args, "--report", str(out), "--format", "value")
    assert result.exit_code == 0, result.stderr
    return out.read_text(encoding="utf-8")


@needs_extra
def test_the_page_stands_alone(tmp_path: Path) -> None:
    page = _page(tmp_path, *CLASSES, "--by", "id")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    # nothing to fetch: src= and href= only to a place in the page or inline data (the
    # colour bar), no url(...), no @import
    assert not re.search(r"\b(src|href)\s*=\s*\"(?!#|data:)", page, flags=re.IGNORECASE)
    assert not re.search(r"url\((?!#)", page) and "@import" not in page
    assert page.count("<svg") == 5  # histogram, reliability, confusion, per class, per id
    for needed in ("Mean loss per class", "Metrics per class", "accuracy", "bird"):
        assert needed in page
    assert _page(tmp_path, *CLASSES, "--by", "id", name="again.html") == page


@needs_extra
def test_the_api_writes_the_same_page_and_a_notebook_shows_the_summary(tmp_path: Path) -> None:
    report = lossctl.evaluate(*CLASSES)
    report.to_html(tmp_path / "api.html")
    assert (tmp_path / "api.html").read_text(encoding="utf-8") == _page(tmp_path, *CLASSES)
    shown = report._repr_html_()
    assert "mean loss" in shown and "balanced_accuracy" in shown and "<svg" in shown
    assert len(shown) < 200_000


@needs_extra
@needs_chromium
@pytest.mark.parametrize(
    "args",
    [CLASSES, LABELS, ["--baseline", str(ROOT / "sample_data" / "multiclass_baseline.csv")]],
    ids=["multiclass", "multilabel", "baseline"],
)
def test_chromium_draws_every_chart_offline(tmp_path: Path, args: list[str]) -> None:
    inputs = CLASSES + args if args[0].startswith("--") else args
    _page(tmp_path, *inputs)
    assert CHROMIUM is not None, "chromium is not installed: apt-get install -y chromium"
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         (tmp_path / "report.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
    dom = done.stdout
    figures = re.findall(r'<figure class="chart">(.*?)</figure>', dom, flags=re.DOTALL)
    assert len(figures) >= 3
    for figure in figures:
        assert "<svg" in figure
        assert len(re.findall(r"<path\b", figure)) >= 5, figure[:300]
    if "--baseline" in args:
        assert "Against the baseline" in dom


def test_report_needs_an_html_name() -> None:
    result = run_eval(*CLASSES, "--report", "report.txt")
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "report.txt: --report writes an HTML page")


def test_report_without_the_extra_names_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else found(name, *a),
    )
    result = run_eval(*CLASSES, "--report", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert_one_error_line(result.stderr, "pip install 'lossctl[report]'")
    assert not (tmp_path / "r.html").exists()


def test_the_base_install_never_imports_matplotlib() -> None:
    code = (
        "import sys, lossctl; r = lossctl.evaluate(*sys.argv[1:]); r.to_dict(); "
        "from lossctl.report.table import render_table; "
        "from rich.console import Console; render_table(r, Console(file=open('/dev/null', 'w'))); "
        "assert 'matplotlib' not in sys.modules"
    )
    import sys

    subprocess.run([sys.executable, "-c", code, *CLASSES], check=True, timeout=120)
