# The storage-version migration hook (templates/storage-migration.yaml): bash and kubectl only.
# MIGRATE_CRDS: "<CRD name>=<storage version> ...". For each CRD, every object is read and
# written back through the storage version, so the API server stores it in that version (the
# read converts an object stored in an older one through the operator's webhook). Only a CRD
# whose objects were all re-written gets status.storedVersions set to the storage version alone;
# any failure fails the pod, and the Job retries it.
set -uo pipefail
failed=0
for target in $MIGRATE_CRDS; do
  crd=${target%%=*} version=${target#*=}
  resource="${crd%%.*}.${version}.${crd#*.}"
  # A failed list (conversion webhook not serving yet) must not read as "no objects".
  if ! objects=$(kubectl get "$resource" --all-namespaces \
      -o jsonpath='{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{"\n"}{end}'); then
    echo "ERROR: cannot list ${resource}; left ${crd} as it was"
    failed=1
    continue
  fi
  migrated=0 errors=0
  while read -r namespace name; do
    [ -n "$name" ] || continue
    if kubectl get "$resource" "$name" --namespace "$namespace" -o json | kubectl replace -f - >/dev/null; then
      migrated=$((migrated + 1))
    else
      echo "ERROR: could not re-write ${namespace}/${name} (${resource})"
      errors=$((errors + 1))
    fi
  done <<<"$objects"
  echo "${crd}: re-wrote ${migrated} object(s) as ${version}, ${errors} failed"
  if [ "$errors" -gt 0 ]; then
    echo "ERROR: status.storedVersions of ${crd} left as it was"
    failed=1
    continue
  fi
  kubectl patch crd "$crd" --subresource=status --type=json \
    -p "[{\"op\":\"replace\",\"path\":\"/status/storedVersions\",\"value\":[\"${version}\"]}]" || { failed=1; continue; }
  echo "${crd}: status.storedVersions is [${version}]"
done
exit "$failed"
