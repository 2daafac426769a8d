"""The speed gate: two git revisions timed in alternating blocks on one machine (docs/design.md §12)."""
