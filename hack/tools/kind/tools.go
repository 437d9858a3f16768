//go:build tools

// Package tools pins the kind CLI used by the `kind` cluster provider (where Docker runs).
package tools

import _ "sigs.k8s.io/kind"
