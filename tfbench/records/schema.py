"""Names of the measured columns, shared by the harness (which fills them) and the records (which
store them). Kept free of TensorFlow so reading results never imports it."""

# Columns of one layer's row, in buffer order (DESIGN §5).
LAYER_COLUMNS = (
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
# The metric each task reports (DESIGN §5), and which direction is better: one definition for the
# harness, the run summary and the report.
METRIC_FOR_TASK = {"classification": "accuracy", "regression": "mae"}
HIGHER_IS_BETTER = {"accuracy": True, "mae": False}

STEP_COLUMNS = ("loss", "reg_loss", "metric", "global_grad_norm", "learning_rate")
