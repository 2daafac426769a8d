"""The record schema (docs/design.md §6): the schema version and every column name, shared by the
harness (which fills them), the records (which store them) and their readers. Free of TensorFlow so
reading results never imports it."""

# The measured columns of one layer's row, in buffer order (docs/design.md §5).
LAYER_MEASURES = (
    "kernel_grad_norm",
    "bias_grad_norm",
    "act_grad_norm",
    "kernel_norm",
    "update_ratio",
    "grad_max_abs",
    "nonfinite",
    "dead_fraction",
    "saturated_fraction",
)
# The metric each task reports (docs/design.md §5), and which direction is better: one definition for the
# harness, the run summary and the report.
METRIC_FOR_TASK = {"classification": "accuracy", "regression": "mae"}
HIGHER_IS_BETTER = {"accuracy": True, "mae": False}

# The measured columns of one step's row, in buffer order.
STEP_MEASURES = ("loss", "reg_loss", "metric", "global_grad_norm", "learning_rate")

# Readers refuse records written under a newer schema; new columns within a version are appended.
SCHEMA_VERSION = 1

RUN_COLUMNS = (
    "suite", "factor", "variant", "level", "seed", "status", "verdict", "verdict_end", "steps",
    "metric_name", "final_loss", "final_metric", "best_metric", "log10_grad_ratio", "log10_delta_ratio",
    "wall_s", "steps_per_s", "setup_hash", "error",
    # appended after schema 1 was first written: readers tolerate their absence
    "setup_s", "step_s", "monitor_s", "log10_time_ratio",
)  # fmt: skip
# What the machine measured rather than the model computed: differs between two runs of one setup.
TIMING_COLUMNS = ("wall_s", "steps_per_s", "setup_s", "step_s", "monitor_s")
# Labels, levels and hashes stay text: "1e-3" or "007" must not come back as numbers.
RUN_TEXT_DTYPES = {name: str for name in (
    "suite", "factor", "variant", "level", "status", "verdict", "verdict_end", "metric_name", "setup_hash", "error",
)}  # fmt: skip
KEY_COLUMNS = ("suite", "variant", "seed")
STEP_COLUMNS = (*KEY_COLUMNS, "step", *STEP_MEASURES, "val_loss", "val_metric")
# `weight` (the main weight's name) appended after schema 1 was first written.
LAYER_COLUMNS = (*KEY_COLUMNS, "step", "layer", "depth", *LAYER_MEASURES, "weight")
TIMESTEP_COLUMNS = (*KEY_COLUMNS, "step", "timestep", "input_grad_norm")  # rnn models only

RUNS_FILE, STEPS_FILE, LAYERS_FILE, MANIFEST_FILE = "runs.csv", "steps.parquet", "layers.parquet", "manifest.json"
TIMESTEPS_FILE = "timesteps.parquet"
