"""The training harness: a Keras model whose `train_step` records gradient statistics (docs/design.md §5)."""
