// Schemas of the GitOps objects docs/gitops.md shows, from their projects' published modules
// (nothing here is built): Argo CD's Application CRD (manifests/crds), Flux's OCIRepository CRD
// (source-controller config/crd/bases) and Flux's HelmRelease Go types (helm-controller/api v2:
// the module proxy serves no module holding the HelmRelease CRD YAML). hack/bootstrap.sh copies
// them to .cache/tools/crds/<module>/.
module github.com/dynamo-platform/hack/tools/gitops-crds

go 1.26.0

require (
	github.com/argoproj/argo-cd/v3 v3.5.4
	github.com/fluxcd/helm-controller/api v1.6.5
	github.com/fluxcd/source-controller v1.9.6
)
