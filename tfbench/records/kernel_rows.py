"""The rows of layers with a kernel, numbered as they were before every weight got rows.

layers.parquet has a row for every layer that owns trainable weights, `depth` numbering them all in
forward order, and `weight` naming the main weight of each (docs/design.md §5). What compares
layers across depth — the verdict's gradient ratio between depth 1 and the last hidden layer, the
report's depth figures, the theory overlay — reads the layers with a kernel only (Dense, Conv,
DepthwiseConv, EinsumDense, recurrent), renumbered 1..K in forward order: BatchNormalization's
gamma or an Embedding's table are not a step along the path whose gradient ratio the verdict judges.
"""

from __future__ import annotations

import pandas as pd

# A layer's main weight (its `weight` column) is a kernel when its name says so: kernel,
# recurrent_kernel, depthwise_kernel, pointwise_kernel.
KERNEL_MARK = "kernel"
RUN_KEYS = ("suite", "variant", "seed", "step")


def is_kernel(weights: pd.Series) -> pd.Series:
    return weights.astype(str).str.contains(KERNEL_MARK, regex=False)


def kernel_rows(layers: pd.DataFrame) -> pd.DataFrame:
    """`layers` restricted to layers with a kernel, `depth` renumbered 1..K within each run and step.
    Records written before the `weight` column existed hold kernel layers only: returned as they are."""
    if "weight" not in layers or layers.empty:
        return layers
    kept = layers[is_kernel(layers["weight"])].copy()
    if len(kept) == len(layers):
        return layers
    keys = [key for key in RUN_KEYS if key in kept]
    depths = kept.groupby(keys, dropna=False)["depth"] if keys else kept["depth"]
    ranks = depths.rank(method="dense")
    kept["depth"] = ranks.astype(kept["depth"].dtype)
    return kept
