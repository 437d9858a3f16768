"""Model deployments: typed DynamoGraphDeployment templates (config, templates) and the cluster
steps that validate, apply, wait for and remove them (cluster)."""
