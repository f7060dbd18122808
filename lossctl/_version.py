"""The version of lossctl (read by pyproject.toml and ``lossctl --version``)."""

__version__ = "0.1.0"
