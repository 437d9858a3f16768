"""Code only the tests use, kept out of the installed dynamo_harness package: offline CRD schema
checks (crd_schema), JSON Schemas read from Go API types (go_schema), the PromQL of the chart's
monitoring objects (promql), the local OCI registry (registry), the etcd and NATS data of a
release on the real node (release_data) and the harness's import graph and layers (module_graph).
pyproject.toml puts tests/ on pytest's path, so every layer imports it as `support`."""
