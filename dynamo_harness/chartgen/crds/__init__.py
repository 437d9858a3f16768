"""The Dynamo CRDs (group nvidia.com): v1alpha1 and v1beta1, with structural OpenAPI v3 schemas.

Which version each kind serves and stores, which is deprecated (and its warning), the v1beta1
shapes, enums, limits and CEL rules follow upstream at the pinned release (UPSTREAM below):
the kubebuilder markers of ai-dynamo/dynamo `deploy/operator/api/v1beta1/*_types.go` and the
platform chart's `components/operator/crds/`. One module per kind, named after upstream's
`<kind>_types.go`; fields more than one kind uses are in common.py (upstream's common.go), the
CustomResourceDefinition envelope in crd.py. Embedded Kubernetes types (pod templates, probes,
Job specs) keep unknown fields rather than copying the whole core/v1 schema, which is what pushed
upstream's CRDs to ~2.9 MB; fields users set often are typed so a wrong type is rejected.
Conversion between the versions is the operator's webhook; templates/crds.yaml wires it.
"""

from __future__ import annotations

from . import (
    dynamo_model,
    dynamocheckpoint,
    dynamocomponentdeployment,
    dynamographdeployment,
    dynamographdeploymentrequest,
    dynamographdeploymentscalingadapter,
    dynamoworkermetadata,
)
from .crd import CRD

# Where the facts come from (read through the public source index; the module proxy serves no
# ai-dynamo/dynamo operator module, so no release tree could be read whole):
# - Dynamo 1.3.0: platform chart 1.3.0 (grove v0.1.0-alpha.8, kai-scheduler v0.13.4) at
#   03a5d4b6e2bd95bbf0793191873c9dbf91179383; its operator CRDs (DGDSA: both versions, v1alpha1
#   stored, dgdRef.componentName in v1beta1) at 02046efff6767b6971dcaa95799fe69121246bfa; its DGDR
#   storage-version migration hook (DGDR stores v1beta1) at c52ddd125e34d703223318e2ef894cd42d5d1ebd.
#   Upstream's docs for 1.3.x: DGD still stores v1alpha1 and warns that v1alpha1 is deprecated.
# - v1beta1 shapes from api/v1beta1 copies on upstream's main, newer than 1.3 (that copy of the DGD
#   types already stores v1beta1; this chart keeps 1.3's v1alpha1): component markers (name 1-63
#   characters and pattern, replicas >= 0, the epp and unique-name CEL rules) at
#   0fddc01b37244c4cfa5bcfd1c2e4f1a577ee833c; DGDR and DynamoModel fields and enums at
#   01417e96e5a46abced0e05e7fb629ab8dd950150 and 50820f5b16d01bf85205a5fa649e76ff68300c65, without
#   the later v1beta2 envelope. The DGDR field table of the seed docs gives the workload defaults.
# - Ours, not upstream's markers: replicas default 1 (the copy read leaves defaulting to the
#   operator; the issue asks for it) and the CEL wording of the DGDR rules the docs state in prose
#   (e2eLatency excludes ttft/itl; concurrency excludes requestRate).
UPSTREAM = {
    "dynamo": "1.3.0",
    "chart": "03a5d4b6e2bd95bbf0793191873c9dbf91179383",
    "operator-crds": "02046efff6767b6971dcaa95799fe69121246bfa",
    "storage-migration": "c52ddd125e34d703223318e2ef894cd42d5d1ebd",
    "api-v1beta1": "0fddc01b37244c4cfa5bcfd1c2e4f1a577ee833c",
}


def all_crds() -> list[CRD]:
    return [
        dynamographdeployment.crd(),
        dynamocomponentdeployment.crd(),
        dynamographdeploymentrequest.crd(),
        dynamo_model.crd(),
        dynamographdeploymentscalingadapter.crd(),
        dynamocheckpoint.crd(),
        dynamoworkermetadata.crd(),
    ]
