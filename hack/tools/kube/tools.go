//go:build tools

// Package tools pins the Kubernetes commands hack/bootstrap.sh builds: the control plane, and the
// kubelet and kube-proxy of the local cluster's real node (--with-node), and kubeadm, which sets
// up the nodes of a kind cluster (--with-kind).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
