// CRD schemas of the projects the chart's optional objects target, taken from their own published
// modules (nothing here is built): prometheus-operator (example/prometheus-operator-crd), Gateway
// API and the Inference Extension (config/crd), LeaderWorkerSet (config/crd, also vendored into
// charts/dynamo-platform/charts/lws/crds by `make generate`). hack/bootstrap.sh copies them to
// .cache/tools/crds/<module>/.
module github.com/dynamo-platform/hack/tools/crds

go 1.26.0

require (
	github.com/prometheus-operator/prometheus-operator v0.85.0
	sigs.k8s.io/gateway-api v1.4.0
	sigs.k8s.io/gateway-api-inference-extension v1.4.0
	sigs.k8s.io/lws v0.8.0
)
