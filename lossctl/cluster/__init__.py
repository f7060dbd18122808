"""The same evaluation on a Dask cluster (``--engine dask``): one pass of
:class:`~lossctl.core.state.EvalState` per partition, merged by Dask's tree reduction.

A partition is one part file of the predictions (a glob or a directory of parts; a single
file is one partition), with the targets of the same rows. Each runs on a worker exactly
the pass of the local engine (:meth:`lossctl.passes.Source.run`: :mod:`lossctl.io` reads
and aligns its rows into NumPy chunks, the state updates), with its rows numbered over the
whole input, so that the merged state is the state of one pass over every row;
``Bag.reduction`` merges the partial states (``EvalState.merge``). Detection, the second
pass when the first one's guess was not the decision, the checks and the report are the
local engine's (:meth:`lossctl.passes.Source.evaluate` calls
:meth:`~lossctl.cluster.source.DaskSource.run`).

The targets of a partition's rows are, by position, the targets' part of the same rows;
by id, the targets' part beside it when both inputs have parts of the same rows and the
ids join in step there (each partition's own join, and no id in two partitions), else
those that the join through Dask brings together (:mod:`lossctl.cluster.join`).

Inputs that cannot be split so (DataFrames, standard input, targets split at other rows
than the predictions without ids) are read on the client by the local engine, and the
report's reasons say so. With ``--output``, each partition writes its losses as a part
of a directory, or under a prefix in object storage (see
:class:`lossctl.io.parts_output.PartsOutput`).

Modules: :mod:`~lossctl.cluster.client` (the Dask client), :mod:`~lossctl.cluster.source`
(the passes, from the client), :mod:`~lossctl.cluster.worker` (what a worker runs),
:mod:`~lossctl.cluster.join` (the id join through Dask).
"""
