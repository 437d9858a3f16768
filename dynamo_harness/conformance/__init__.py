"""Conformance probes: is a Dynamo platform and its models healthy and fast?

Every probe returns ProbeResults (result.py); the CLI, pytest and the reports all read them.
"""
