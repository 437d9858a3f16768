//go:build tools

// Package tools pins the CNI plugins of the kind node image (dynamo_harness/clusters/kind_node_image.py): the four
// kind v0.30.0's base image builds (images/base/Dockerfile, CNI_PLUGINS_VERSION).
package tools

import (
	_ "github.com/containernetworking/plugins/plugins/ipam/host-local"
	_ "github.com/containernetworking/plugins/plugins/main/loopback"
	_ "github.com/containernetworking/plugins/plugins/main/ptp"
	_ "github.com/containernetworking/plugins/plugins/meta/portmap"
)
