//go:build tools

// Package tools pins kwok, the controller that simulates nodes and pod lifecycles.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
