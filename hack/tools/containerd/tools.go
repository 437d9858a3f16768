//go:build tools

// Package tools pins the container runtime of the kind node image (dynamo_harness/clusters/kind_node_image.py):
// containerd, ctr and the runc shim, at the version kind v0.30.0's base image builds
// (images/base/Dockerfile, CONTAINERD_VERSION).
package tools

import (
	_ "github.com/containerd/containerd/v2/cmd/containerd"
	_ "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2"
	_ "github.com/containerd/containerd/v2/cmd/ctr"
)
