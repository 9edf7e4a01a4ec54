"""experiments: sweeps, the compute frontier and its change-point fit, plots and reports."""
