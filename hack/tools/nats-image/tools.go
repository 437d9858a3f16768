//go:build tools

// Package tools pins nats-server at the chart's NATS version (charts/dynamo-platform/charts/nats/
// Chart.yaml appVersion) for the local node's NATS image.
package tools

import _ "github.com/nats-io/nats-server/v2"
