//go:build tools

// Helm 3, next to the Helm 4 of hack/versions.env: the template layer runs with both.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
