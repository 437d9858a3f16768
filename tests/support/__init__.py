"""Code only the tests use, kept out of the installed dynamo_harness package: offline CRD schema
checks (crd_schema), JSON Schemas read from Go API types (go_schema), the PromQL of the chart's
monitoring objects (promql) and the local OCI registry (registry). pyproject.toml puts tests/ on
pytest's path, so every layer imports it as `support`."""
