"""Harness for the dynamo-platform chart: helm wrapper, manifest helpers, generators, CLI."""
