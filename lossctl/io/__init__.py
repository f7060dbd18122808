"""Reading inputs and writing per-sample losses: the only place pyarrow and pandas are used."""
