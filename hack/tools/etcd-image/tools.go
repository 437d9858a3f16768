//go:build tools

// Package tools pins etcd and etcdctl at the chart's etcd version (charts/dynamo-platform/charts/
// etcd/Chart.yaml appVersion) for the local node's etcd image; hack/tools/etcd is the control
// plane's own, newer etcd.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
