"""The Dynamo CRDs (group nvidia.com): v1alpha1 and v1beta1, with structural OpenAPI v3 schemas.

Which version each kind serves and stores, which is deprecated (and its warning), the v1beta1
shapes, enums, limits and CEL rules follow upstream at the newest release whose files can be read
(UPSTREAM below; DGD and DCD at 1.6.0/1.5.0, the other kinds still at 1.3.0's facts):
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
# ai-dynamo/dynamo operator module, so no release tree could be read whole). No ai-dynamo/dynamo
# commit in the index ties the operator's CRDs or API types to a release; GitHub forks of it store
# whole release trees at one commit, so their platform Chart.yaml names the release of the CRDs
# beside it. Those fork copies are the 1.5.0/1.6.0 sources (a fork may carry changes of its own;
# the facts used here agree across the forks read):
# - Dynamo 1.6.0, DGD: v1beta1 stores, v1alpha1 deprecated with upstream's warning: tu-kim/dynamo
#   @ 3f3d3dfa22e790642d10c1ffcf5d72750f4f91a8 (fork copy of the 1.6.0 tree: platform Chart.yaml
#   1.6.0; deploy/operator/config/crd/bases/nvidia.com_dynamographdeployments.yaml). The v1beta1
#   markers (components MaxItems=25, the epp and unique-name rules, spec.restart unset on create,
#   Parallel restarts with lpx components, the v1beta1 ComponentType enum with lpx, Restart):
#   michaelfeil/dynamo @ 86e34d1eb9410e234c41e6d3fa812f89d7ba7656 (fork copy of the 1.6.0 dev tree:
#   README badge 1.6.0; deploy/operator/api/v1beta1/dynamographdeployment_types.go, common.go).
# - Dynamo 1.5.0, DCD: v1beta1 stores, v1alpha1 deprecated with upstream's warning:
#   yueying-AIHorizon/dynamo @ 3d741331e55038cee2f24f4a0d3e3592cd89bbd3 (fork copy of the 1.5.0
#   tree: platform Chart.yaml 1.5.0; deploy/operator/config/crd/bases/
#   nvidia.com_dynamocomponentdeployments.yaml; its DGD CRD has the same layout as 1.6.0's). No DCD
#   CRD is stored at a 1.6.0-tied commit.
# - DynamoModel, DGDSA, DynamoCheckpoint, DynamoWorkerMetadata: only copies on upstream's main or
#   forks' non-release commits exist (main's DynamoModel and DGDSA store v1beta1, main has a
#   DynamoCheckpoint v1beta1, DynamoWorkerMetadata is gone from main's CRD bases); none is tied to
#   a release, so these kinds keep the 1.3.0 facts below.
# - Dynamo 1.3.0 (ai-dynamo/dynamo): platform chart 1.3.0 (grove v0.1.0-alpha.8, kai-scheduler v0.13.4) at
#   03a5d4b6e2bd95bbf0793191873c9dbf91179383; its operator CRDs (DGDSA: both versions, v1alpha1
#   stored, dgdRef.componentName in v1beta1) at 02046efff6767b6971dcaa95799fe69121246bfa; its DGDR
#   storage-version migration hook (DGDR stores v1beta1) at c52ddd125e34d703223318e2ef894cd42d5d1ebd.
#   Upstream's docs for 1.3.x: DGD still stores v1alpha1 and warns that v1alpha1 is deprecated
#   (superseded above: DGD and DCD store v1beta1 from 1.5.0).
# - DGDR: the 1.5.0 fork copy (yueying-AIHorizon/dynamo @ 3d741331, nvidia.com_dynamographdeploymentrequests.yaml)
#   keeps 1.3's layout (v1beta1 stored, v1alpha1 deprecated with the warning); its fields stay 1.3's.
# - v1beta1 shapes from api/v1beta1 copies on upstream's main, newer than 1.3: component markers (name 1-63
#   characters and pattern, replicas >= 0, the epp and unique-name CEL rules) at
#   0fddc01b37244c4cfa5bcfd1c2e4f1a577ee833c; DGDR and DynamoModel fields and enums at
#   01417e96e5a46abced0e05e7fb629ab8dd950150 and 50820f5b16d01bf85205a5fa649e76ff68300c65, without
#   the later v1beta2 envelope. The DGDR field table of the seed docs gives the workload defaults.
# - Ours, not upstream's markers: replicas default 1 (the copy read leaves defaulting to the
#   operator; the issue asks for it) and the CEL wording of the DGDR rules the docs state in prose
#   (e2eLatency excludes ttft/itl; concurrency excludes requestRate).
UPSTREAM = {
    # The release the newest facts come from (DGD, DCD); the other kinds: "dynamo-1.3" below.
    "dynamo": "1.6.0",
    "dgd-crd-1.6.0": "tu-kim/dynamo@3f3d3dfa22e790642d10c1ffcf5d72750f4f91a8",
    "api-v1beta1-1.6.0": "michaelfeil/dynamo@86e34d1eb9410e234c41e6d3fa812f89d7ba7656",
    "crds-1.5.0": "yueying-AIHorizon/dynamo@3d741331e55038cee2f24f4a0d3e3592cd89bbd3",
    # Dynamo 1.3.0 (ai-dynamo/dynamo commits): DynamoModel, DGDSA, DynamoCheckpoint,
    # DynamoWorkerMetadata, DGDR, the storage-migration hook, v1beta1 component shapes.
    "dynamo-1.3": "1.3.0",
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
