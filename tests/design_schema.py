"""The record schema as docs/design.md §5 and §6 write it, typed out independently of tfbench.records.store."""

RUNS = [
    "suite", "factor", "variant", "level", "seed", "status", "verdict", "verdict_end", "steps", "metric_name",
    "final_loss", "final_metric", "best_metric", "log10_grad_ratio", "log10_delta_ratio", "wall_s", "steps_per_s",
    "setup_hash", "error", "setup_s", "step_s", "monitor_s", "log10_time_ratio",
]  # fmt: skip
STEPS = [
    "suite", "variant", "seed", "step", "loss", "reg_loss", "metric", "global_grad_norm", "learning_rate",
    "val_loss", "val_metric",
]  # fmt: skip
LAYERS = [
    "suite", "variant", "seed", "step", "layer", "depth", "kernel_grad_norm", "bias_grad_norm", "act_grad_norm",
    "kernel_norm", "update_ratio", "grad_max_abs", "nonfinite", "dead_fraction", "saturated_fraction", "weight",
]  # fmt: skip
