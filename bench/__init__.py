"""streamgauge's benchmarks: each measures against a baseline in the same run."""
