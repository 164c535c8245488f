"""multichat's benchmarks: every figure printed next to a baseline measured in the same run."""
