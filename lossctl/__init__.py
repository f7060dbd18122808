"""lossctl: evaluate a model's predictions against the truth, with the right loss, explained.

The public API is :func:`evaluate`, which returns a :class:`Report`, and
:func:`detect`, which returns the :class:`DetectionReport` alone; errors
are :class:`LossctlError` subclasses, each with its :class:`ExitCode`.
The names are loaded on first use, so ``import lossctl`` (and ``lossctl
--help``) does not pay for NumPy and pyarrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lossctl._version import __version__

__all__ = [
    "DetectionReport",
    "EvalOptions",
    "ExitCode",
    "LossctlError",
    "Report",
    "__version__",
    "detect",
    "evaluate",
]

if TYPE_CHECKING:
    from lossctl.engine import evaluate
    from lossctl.errors import ExitCode, LossctlError
    from lossctl.options import EvalOptions
    from lossctl.report.model import Report

_LAZY = {
    "ExitCode": "lossctl.errors",
    "LossctlError": "lossctl.errors",
    "EvalOptions": "lossctl.options",
    "evaluate": "lossctl.engine",
    "detect": "lossctl.engine",
    "Report": "lossctl.report.model",
    "DetectionReport": "lossctl.report.model",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lossctl' has no attribute {name!r}")
