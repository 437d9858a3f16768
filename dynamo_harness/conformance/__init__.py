"""Conformance probes: is a Dynamo platform and its models healthy and fast?

Every probe returns ProbeResults (dynamo_harness/results.py); the CLI, pytest and the reports all read them.
"""
