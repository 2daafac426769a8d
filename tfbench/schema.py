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
STEP_COLUMNS = ("loss", "reg_loss", "metric", "global_grad_norm", "learning_rate")
