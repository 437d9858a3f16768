// Command coredns is the cluster DNS of the local cluster's real node and of the kind nodes:
// CoreDNS with only the plugins their Corefiles use (the real node's in
// dynamo_harness/clusters/real_node.py; kubeadm's default Corefile, which kind clusters run), so the
// build stays small.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// The order in which the plugins run, taken from upstream's plugin.cfg (the metrics package is
// the `prometheus` directive).
var directives = []string{
	"reload", "bind", "ready", "health", "prometheus", "errors", "loadbalance", "cache", "kubernetes",
	"loop", "forward",
}

func init() { dnsserver.Directives = directives }

func main() { coremain.Run() }
