//go:build tools

// The CNCF distribution registry: a real OCI registry on 127.0.0.1 for the release tests.
package tools

import _ "github.com/distribution/distribution/v3/cmd/registry"
