"""Analysis: frames from a store, statistics, figures, plots and the HTML page."""
