"""Reports from the records of a tfbench run: tables, figures, pages."""
