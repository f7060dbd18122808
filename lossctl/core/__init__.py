"""The numeric core: NumPy only (no pandas, no files, no Rich, no Typer)."""
