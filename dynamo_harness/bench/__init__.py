"""`make bench`: timings of the chart and the harness, and the probe next to aiperf (see __main__)."""
