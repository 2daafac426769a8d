"""What each task trains with by default: the one definition of the default loss per task.

Class labels are integers (sparse cross-entropy); regression targets are floats (mean squared error).
"""

DEFAULT_LOSS = {"classification": "sparse_categorical_crossentropy", "regression": "mse"}
