"""Reports and statistics (M14): figures over a half-open period, computed in SQL."""
