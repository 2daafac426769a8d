"""Data sets: built-in (bundled digits, synthetic spirals/teacher/adding/recall, keras.datasets), a
user's .npz or callable, and batching in an order fixed by the seed."""
