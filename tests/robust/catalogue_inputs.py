"""The catalogue's cases of column, value, alignment, detection errors and bugs (see
test_catalogue.py)."""

from __future__ import annotations

from tests.robust.catalogue_helpers import (
    ARGS,
    BINARY_PREDS,
    BINARY_TARGETS,
    CLASS_PREDS,
    PAIR,
    Case,
    _parquet,
    _parts,
    _patch_evaluate,
)

INPUTS: dict[str, Case] = {
    # ------------------------------------------------------------------ columns
    "NoSuchColumn": Case(
        {"preds.csv": "id,score\na1,0.1\na2,0.8\na3,0.3\n", "targets.csv": BINARY_TARGETS},
        [*ARGS, "--pred-col", "scores"],
        "preds.csv, column 'scores': no such column (named by --pred-col); the columns are "
        "'id', 'score'. Did you mean 'score'?",
    ),
    "DuplicateColumn": Case(
        {"preds.csv": "id,p,p\na1,0.1,0.2\n", "targets.csv": BINARY_TARGETS},
        ARGS,
        "preds.csv, column 'p': this column name appears more than once. Give every column "
        "a unique name",
    ),
    "NoColumnsLeft": Case(
        {"preds.csv": "id\na1\na2\na3\n", "targets.csv": BINARY_TARGETS},
        ARGS,
        "preds.csv: has no prediction columns left once ids and weights are set aside. Name "
        "the prediction columns with --pred-col",
    ),
    "AmbiguousPairing": Case(
        {"preds.csv": "a,b\n0.2,0.7\n0.9,0.1\n", "targets.csv": "a,c\n0,1\n1,0\n"},
        ARGS,
        "targets.csv: the target columns (a, c) share some names with the prediction columns "
        "(a, b) but not all, so pairing them is a guess. Give both in matching order with "
        "--pred-col and --target-col",
    ),
    "UnsupportedColumnType": Case(
        {"preds.parquet": _parquet(p=[["a"], ["b"], ["c"]]), "targets.csv": "y\n0\n1\n0\n"},
        ["preds.parquet", "targets.csv"],
        "preds.parquet, column 'p': holds list<element: string> values, not numbers. Pick "
        "numeric columns with --pred-col",
    ),
    "MixedJsonTypes": Case(
        {
            "preds.jsonl": '{"id": 1, "p": 0.1}\n{"id": "a2", "p": 0.8}\n{"id": 3, "p": 0.3}\n',
            "targets.csv": BINARY_TARGETS,
        },
        ["preds.jsonl", "targets.csv"],
        "preds.jsonl, column 'id', row 2: holds a string, where row 1 holds a number. Give each "
        "column values of one JSON type (quote every id, or none)",
    ),
    "TooManyTargetColumns": Case(
        {
            "preds.csv": BINARY_PREDS,
            "targets.csv": "id,y,split\na1,0,train\na2,1,test\na3,0,test\n",
        },
        ARGS,
        "targets.csv: has 2 columns besides the id and weights (y, split) for 1 prediction "
        "column; 'y' looks like the target. Pick the target with --target-col y",
    ),
    "PartColumnsDiffer": Case(
        {"targets.csv": BINARY_TARGETS},
        ["preds/*.csv", "targets.csv"],
        "preds/part-1.csv, column 'p': this column of the first part, preds/part-0.csv, is "
        "not in this part. Give every part the same columns (in any order)",
        setup=_parts(
            {"preds/part-0.csv": "id,p\na1,0.1\n", "preds/part-1.csv": "id,q\na2,0.8\na3,0.3\n"}
        ),
    ),
    "PartitionColumnClash": Case(
        {"targets.csv": BINARY_TARGETS},
        ["preds", "targets.csv"],
        "preds/date=2024-01-01/part-0.csv, column 'date': is a column of the file and a "
        "partition directory of its path (date=2024-01-01). Rename the column or the "
        "partition directories",
        setup=_parts({"preds/date=2024-01-01/part-0.csv": "id,p,date\na1,0.1,2024-01-01\n"}),
    ),
    # ------------------------------------------------------------------ values
    "NonNumeric": Case(
        {"preds.csv": "id,p\na1,0.1\na2,high\na3,low\n", "targets.csv": BINARY_TARGETS},
        ARGS,
        "preds.csv, column 'p', row 2: 'high' is not a number (2 rows affected). Fix the "
        "value, or pick numeric prediction columns with --pred-col",
    ),
    "RaggedList": Case(
        {
            "preds.jsonl": '{"id": "a1", "p": [0.4, 0.6]}\n{"id": "a2", "p": [0.3, 0.7]}\n'
            '{"id": "a3", "p": [0.9]}\n',
            "targets.csv": BINARY_TARGETS,
        },
        ["preds.jsonl", "targets.csv"],
        "preds.jsonl, column 'p', row 3: holds a list of length 1, where the first list has "
        "length 2. Give every row a list of the same length",
    ),
    "MissingValue": Case(
        {"preds.csv": "id,p\na1,0.1\na2,\na3,NaN\n", "targets.csv": BINARY_TARGETS},
        ARGS,
        "preds.csv, column 'p', row 2: this value is missing (empty, NaN or infinite) (2 rows "
        "affected). Fill or remove those rows, or pass --drop-missing to skip them",
    ),
    "AllRowsMissing": Case(
        {"preds.csv": "id,p\na1,\na2,\na3,inf\n", "targets.csv": BINARY_TARGETS},
        [*ARGS, "--drop-missing"],
        "preds.csv: every row has a missing value, so none is left to evaluate. Check the "
        "columns chosen",
    ),
    "NegativeWeight": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y,w\na1,0,1\na2,1,-2\na3,0,1\n"},
        [*ARGS, "--weight-col", "w"],
        "targets.csv, column 'w', row 2: this weight is negative. Weights must be >= 0",
    ),
    "ZeroWeights": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y,w\na1,0,0\na2,1,0\na3,0,0\n"},
        [*ARGS, "--weight-col", "w"],
        "targets.csv, column 'w': every weight is zero. Check --weight-col",
    ),
    "ProbabilityOutOfRange": Case(
        {"preds.csv": "id,p\na1,0.1\na2,1.8\na3,-0.3\n", "targets.csv": BINARY_TARGETS},
        [*ARGS, "--from-probs"],
        "preds.csv, column 'p', row 2: '1.8' is outside [0, 1], but --from-probs was given "
        "(2 rows affected). Drop --from-probs if these are logits",
    ),
    "ClassIndexOutOfRange": Case(
        {"preds.csv": CLASS_PREDS, "targets.csv": "y\n2\n0\n3\n"},
        ARGS,
        "targets.csv, column 'y', row 3: '3' is out of range for 3 classes (indices 0..2). "
        "Check --pred-col: the prediction columns are cat, dog, bird",
    ),
    "UnknownClass": Case(
        {"preds.csv": CLASS_PREDS, "targets.csv": "y\ncat\nfish\nbird\n"},
        ARGS,
        "targets.csv, column 'y', row 2: 'fish' is neither a class name nor a class index "
        "0..2. The classes are the prediction columns: cat, dog, bird",
    ),
    "MixedClassTargets": Case(
        {"preds.csv": CLASS_PREDS, "targets.csv": "y\ncat\n1\nbird\n"},
        ARGS,
        "targets.csv, column 'y', row 2: '1' is a class index, but other targets are class "
        "names. Use either the names (cat, dog, bird) or indices 0..2, not both",
    ),
    "NotBinary": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,0\na2,2\na3,1\n"},
        [*ARGS, "--task", "binary"],
        "targets.csv, column 'y', row 2: '2' is not 0 or 1. binary targets must be 0/1 or "
        "true/false; use --task regression for other values",
    ),
    "UnknownPosLabel": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,no\na2,yes\na3,no\n"},
        [*ARGS, "--pos-label", "Yes"],
        "targets.csv, column 'y': --pos-label 'Yes' is not a value of this column, which holds "
        "'no', 'yes'. Give --pos-label one of them",
    ),
    "TooManyValues": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,no\na2,yes\na3,maybe\n"},
        [*ARGS, "--pos-label", "yes"],
        "targets.csv, column 'y': holds more than two values ('maybe', 'no', 'yes'), so "
        "--pos-label 'yes' leaves more than one value as 0. Map 'maybe', 'no' to one value "
        "first, or evaluate the values as classes (multiclass)",
    ),
    "NotOneHot": Case(
        {
            "preds.csv": "cat,dog\n0.2,0.8\n0.6,0.4\n0.5,0.5\n",
            "targets.csv": "cat,dog\n0,1\n1,1\n1,0\n",
        },
        [*ARGS, "--task", "multiclass"],
        "targets.csv, row 2: this row of targets is not one-hot (exactly one 1, the rest 0). "
        "Give one class column, or one-hot rows",
    ),
    "LossOverflow": Case(
        {"preds.csv": "id,x\na1,1e308\na2,2\n", "targets.csv": "id,y\na1,-1e308\na2,2\n"},
        ARGS,
        "preds.csv, row 1: the squared error of this row overflows float64. Scale the "
        "predictions and targets to a smaller range",
    ),
    "NoSampleOfClass": Case(
        {"preds.csv": CLASS_PREDS, "targets.csv": "label\ncat\ndog\ncat\n"},
        [*ARGS, "--class-weight", "balanced"],
        "targets.csv: --class-weight balanced needs a sample of every class, and 'bird' has "
        "none. Give the class weights with NAME=W,..., or leave out the empty class's column",
    ),
    "OutsideLossDomain": Case(
        {"preds.csv": "p\n1.5\n2\n0.5\n", "targets.csv": "y\n1\n-2\n-1\n"},
        [*ARGS, "--loss", "poisson"],
        "targets.csv, column 'y', row 2: this target is outside the domain of --loss poisson "
        "(targets >= 0) (2 rows affected). Choose a loss whose domain holds these values, "
        "such as mse",
    ),
    # ------------------------------------------------------------------ alignment
    "LengthMismatch": Case(
        {"preds.csv": "p\n0.1\n0.8\n0.3\n", "targets.csv": "y\n0\n1\n"},
        ARGS,
        "preds.csv has 3 rows but targets.csv has 2. Aligned by row order, both files need "
        "the same rows; or align them by an id column with --id",
    ),
    "UnpairedBaseline": Case(
        {
            "preds.csv": "id,p\na1,NaN\na2,0.8\na3,0.3\n",
            "targets.csv": BINARY_TARGETS,
            "baseline.csv": "id,p\na1,0.2\na2,NaN\na3,NaN\n",
        },
        [*ARGS, "--baseline", "baseline.csv", "--drop-missing"],
        "baseline.csv: no sample is left that both the predictions and the baseline kept. "
        "Check the missing values of both files",
    ),
    "EmptyId": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,0\n,1\na3,0\n"},
        ARGS,
        "targets.csv, column 'id', row 2: this id is empty. Every row needs an id; or align "
        "by row order with --no-id",
    ),
    "DuplicateIds": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,0\na2,1\na1,0\n"},
        ARGS,
        "targets.csv, column 'id': 1 ids appear more than once; the first, 'a1', is on rows "
        "1, 3. Every id must appear exactly once in each file",
    ),
    "MissingIds": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,0\na2,1\na4,0\n"},
        ARGS,
        "column 'id': 1 ids of preds.csv are not in targets.csv (first: 'a3', row 3); 1 ids "
        "of targets.csv are not in preds.csv (first: 'a4', row 3). Every id must appear "
        "exactly once in each file; or align by row order with --no-id",
    ),
    # ------------------------------------------------------------------ detection
    "WrongColumnCount": Case(
        {"preds.csv": CLASS_PREDS, "targets.csv": "y\n0\n1\n0\n"},
        [*ARGS, "--task", "binary"],
        "preds.csv: binary needs one prediction and one target column, got 3 and 1. Pick the "
        "columns with --pred-col and --target-col",
    ),
    "PosLabelNeeded": Case(
        {"preds.csv": BINARY_PREDS, "targets.csv": "id,y\na1,no\na2,yes\na3,no\n"},
        ARGS,
        "targets.csv, column 'y': the targets hold two values other than 0 and 1, 'no' and "
        "'yes', and nothing says which one is the positive class. Name it with --pos-label, "
        "e.g. --pos-label yes",
    ),
    "BaselineTaskMismatch": Case(
        {**PAIR, "baseline.csv": "id,p,q\na1,0.1,0.9\na2,0.8,0.2\na3,0.3,0.7\n"},
        [*ARGS, "--baseline", "baseline.csv"],
        "baseline.csv: the baseline is detected as multiclass but the predictions as binary. "
        "Set the task with --task",
    ),
    # ------------------------------------------------------------------ bugs
    "InternalError": Case(
        PAIR,
        ARGS,
        "InternalError: the aligned rows do not match. This is a bug in lossctl {version}: "
        "please rerun with --debug and report the traceback",
        setup=_patch_evaluate,
    ),
}
