"""The report (``model``) and its renderers: JSON, plain values, the Rich table."""
