"""Defaults shared by the engine and the command line, importable without NumPy."""

#: float64 machine epsilon (``np.finfo(np.float64).eps``): scikit-learn's clip, so the
#: largest binary cross-entropy from probabilities is -log(eps) = 36.04365338911715.
DEFAULT_EPS = 2.220446049250313e-16

#: Rows per chunk of the computation: large enough for NumPy to be fast, small
#: enough that the temporaries stay a few MiB.
DEFAULT_CHUNK_ROWS = 65_536

#: At most this many prediction values (rows x columns) a chunk, whatever --chunk-rows says.
CHUNK_VALUES = 1 << 20

TASK_CHOICES = ("auto", "binary", "multiclass", "multilabel", "regression")
