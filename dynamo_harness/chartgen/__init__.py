"""Generators for files that are derived, never hand-edited: CRDs, values schemas, values reference.

`python -m dynamo_harness.chartgen` rewrites them; `--check` fails when a committed file drifts.
"""
