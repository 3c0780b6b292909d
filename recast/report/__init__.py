"""Terminal tables, plots and reports."""
