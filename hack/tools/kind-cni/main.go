// Command kind-cni is the pod network of the kind clusters built here, in the role of kind's own
// kindnetd, whose source is not on the Go module proxy this machine reaches. On its node it
// writes a CNI config for the upstream ptp, host-local and portmap plugins (built into the node
// image) with the node's pod range, and keeps one route per other node: that node's pod range
// via its InternalIP. The nodes share one layer-2 network (the Docker bridge), so these routes are
// all that pod traffic between nodes needs. It does not enforce NetworkPolicy (kindnetd does).
//
// It reads the Node objects every few seconds with the pod's service account, from
// CONTROL_PLANE_ENDPOINT (kind sets it, so the network does not wait for kube-proxy), and runs
// `ip route` for the routes. Only the Go standard library.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const (
	serviceAccount = "/var/run/secrets/kubernetes.io/serviceaccount"
	cniConfig      = "/etc/cni/net.d/10-kind-cni.conflist"
	pollEvery      = 3 * time.Second
	// routeProto marks the routes this program installs (a number from the kernel's free range),
	// so it can find and remove the ones whose node is gone.
	routeProto = "205"
)

type nodeList struct {
	Items []struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			PodCIDR string `json:"podCIDR"`
		} `json:"spec"`
		Status struct {
			Addresses []struct {
				Type    string `json:"type"`
				Address string `json:"address"`
			} `json:"addresses"`
		} `json:"status"`
	} `json:"items"`
}

func main() {
	nodeName, endpoint := os.Getenv("NODE_NAME"), os.Getenv("CONTROL_PLANE_ENDPOINT")
	if nodeName == "" || endpoint == "" {
		log.Fatal("NODE_NAME and CONTROL_PLANE_ENDPOINT must be set")
	}
	client, err := apiClient()
	if err != nil {
		log.Fatal(err)
	}
	for ; ; time.Sleep(pollEvery) {
		nodes, err := listNodes(client, endpoint)
		if err != nil {
			log.Printf("listing nodes: %v", err)
			continue
		}
		if err := sync(nodeName, nodes); err != nil {
			log.Printf("sync: %v", err)
		}
	}
}

func apiClient() (*http.Client, error) {
	ca, err := os.ReadFile(filepath.Join(serviceAccount, "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("no certificate in the service account's ca.crt")
	}
	return &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}, nil
}

func listNodes(client *http.Client, endpoint string) (*nodeList, error) {
	token, err := os.ReadFile(filepath.Join(serviceAccount, "token")) // rotated by the kubelet: read each time
	if err != nil {
		return nil, err
	}
	request, _ := http.NewRequest(http.MethodGet, "https://"+endpoint+"/api/v1/nodes", nil)
	request.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	response, err := client.Do(request)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/nodes: %s", response.Status)
	}
	var nodes nodeList
	return &nodes, json.NewDecoder(response.Body).Decode(&nodes)
}

// sync writes this node's CNI config and makes the routes to the other nodes' pod ranges match
// the Node objects.
func sync(self string, nodes *nodeList) error {
	want := map[string]string{} // pod range -> node IP
	for _, node := range nodes.Items {
		if node.Spec.PodCIDR == "" {
			continue
		}
		if node.Metadata.Name == self {
			if err := writeConfig(node.Spec.PodCIDR); err != nil {
				return err
			}
			continue
		}
		for _, address := range node.Status.Addresses {
			// Nodes without a reachable address (simulated ones report loopback) get no route.
			if addr := net.ParseIP(address.Address); address.Type == "InternalIP" && addr != nil && addr.To4() != nil && !addr.IsLoopback() {
				want[node.Spec.PodCIDR] = address.Address
			}
		}
	}
	have, err := ourRoutes()
	if err != nil {
		return err
	}
	var failed []error // one bad route must not hold up the others
	for cidr, via := range want {
		if have[cidr] != via {
			if err := ip("route", "replace", cidr, "via", via, "proto", routeProto); err != nil {
				failed = append(failed, err)
				continue
			}
			log.Printf("route %s via %s", cidr, via)
		}
	}
	for cidr := range have {
		if _, ok := want[cidr]; !ok {
			if err := ip("route", "del", cidr, "proto", routeProto); err != nil {
				failed = append(failed, err)
				continue
			}
			log.Printf("route %s removed (its node is gone)", cidr)
		}
	}
	return errors.Join(failed...)
}

// ourRoutes lists the routes this program installed: pod range -> gateway.
func ourRoutes() (map[string]string, error) {
	out, err := exec.Command("ip", "-json", "route", "show", "proto", routeProto).Output()
	if err != nil {
		return nil, fmt.Errorf("ip route show: %w", err)
	}
	var routes []struct {
		Dst     string `json:"dst"`
		Gateway string `json:"gateway"`
	}
	if err := json.Unmarshal(out, &routes); err != nil {
		return nil, err
	}
	found := map[string]string{}
	for _, route := range routes {
		found[route.Dst] = route.Gateway
	}
	return found, nil
}

func writeConfig(podCIDR string) error {
	config := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "kind-cni",
		"plugins": []map[string]any{
			{
				"type":   "ptp",
				"ipMasq": false,
				"ipam": map[string]any{
					"type":   "host-local",
					"ranges": [][]map[string]string{{{"subnet": podCIDR}}},
					"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
			{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	data, _ := json.MarshalIndent(config, "", "  ")
	if current, err := os.ReadFile(cniConfig); err == nil && bytes.Equal(current, data) {
		return nil
	}
	temporary := cniConfig + ".tmp"
	if err := os.WriteFile(temporary, data, 0o644); err != nil {
		return err
	}
	log.Printf("CNI config for pod range %s", podCIDR)
	return os.Rename(temporary, cniConfig) // the runtime never reads half a file
}

func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
