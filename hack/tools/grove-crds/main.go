// Command grove-crds prints the Grove CRDs that github.com/ai-dynamo/grove/operator/api embeds
// (package core/v1alpha1/crds), as a JSON object of file name to CRD YAML, for
// `make generate` (dynamo_harness/chartgen) to write into charts/dynamo-platform/charts/grove/crds.
// The module version, and so the CRDs, is pinned by this directory's go.mod and go.sum.
package main

import (
	"encoding/json"
	"os"

	grovecrds "github.com/ai-dynamo/grove/operator/api/core/v1alpha1/crds"
)

func main() {
	files := map[string]string{
		"podcliquesets.grove.io.yaml":          grovecrds.PodCliqueSetCRD(),
		"podcliques.grove.io.yaml":             grovecrds.PodCliqueCRD(),
		"podcliquescalinggroups.grove.io.yaml": grovecrds.PodCliqueScalingGroupCRD(),
		"clustertopologies.grove.io.yaml":      grovecrds.ClusterTopologyCRD(),
	}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", " ")
	if err := encoder.Encode(files); err != nil {
		os.Exit(1)
	}
}
