#!/usr/bin/env bash
# `make up`: deploy the app to the local environment (inventories/local), saying plainly
# where and what was skipped.
#   - Docker answers and the internet is reachable: a kind cluster (3 workers in zones a, b, c)
#     built at the pinned node image, the app image built and loaded into it, the cluster
#     stamped with its identity (playbooks/adopt.yml), then playbooks/site.yml (add-ons too).
#   - otherwise: the project's test cluster (`make cluster`: real control plane, kwok nodes,
#     a real node where the machine can run one, the chart mirror and the ACME test server),
#     then playbooks/site.yml: the add-ons from the chart mirror (their pods on the real node),
#     the app (namespace oui, on kwok nodes: nothing runs in their pods), access, verify. The
#     app image is then built, imported into the real node's containerd and deployed onto it
#     (namespace oui-real) with the host real.<test bed's DNS zone>; `make up` ends with
#     `GET https://<host>/` through Traefik, the certificate (ACME, from the test bed's
#     Pebble) verified against OUI_CA_BUNDLE, which must answer `Hello OUI!`. Without the
#     real node: app.yml, access.yml and verify.yml only, said plainly.
# OUI_UP_TARGET=kind|test forces a choice (kind still needs Docker and the internet).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# shellcheck source=cluster/lib/paths.sh
source cluster/lib/paths.sh
# shellcheck source=cluster/lib/common.sh
source cluster/lib/common.sh
cache=$OUI_CACHE_DIR
playbook=(.venv/bin/ansible-playbook -i inventories/local/hosts.yml)
say() { echo "up: $*"; }
# Each step's time goes into the summary `make up` prints at the end (scripts/timed.sh).
timed() { bash scripts/timed.sh "$@"; }
pinned() { scripts/versions.sh get "$1"; }

say "Python environment: $(readlink .venv) ($(.venv/bin/python --version))"
say "$(.venv/bin/ansible --version | head -1)"

why_not_kind=""
if ! command -v docker >/dev/null 2>&1 || ! timeout 10 docker info >/dev/null 2>&1; then
  why_not_kind="no Docker engine answers"
elif [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' https://registry-1.docker.io/v2/ || true)" = "000" ]; then
  why_not_kind="the container registry (registry-1.docker.io) is not reachable"
fi
target=${OUI_UP_TARGET:-$([ -z "$why_not_kind" ] && echo kind || echo test)}
if [ "$target" = kind ] && [ -n "$why_not_kind" ]; then
  say "OUI_UP_TARGET=kind, but $why_not_kind" >&2
  exit 1
fi

if [ "$target" = kind ]; then
  kind_version=$(pinned kind)
  node_image=$(pinned kind_node_image)
  kind="$cache/bin/kind-$kind_version"
  if [ ! -x "$kind" ]; then
    say "installing kind v$kind_version (go install sigs.k8s.io/kind@v$kind_version)"
    GOBIN="$cache/bin/kind-build" go install "sigs.k8s.io/kind@v$kind_version"
    mv "$cache/bin/kind-build/kind" "$kind"
  fi
  export KUBECONFIG="$cache/kind/kubeconfig" OUI_KUBE_CONTEXT=kind-oui-local
  mkdir -p "$cache/kind"
  if ! "$kind" get clusters 2>/dev/null | grep -qx oui-local; then
    say "creating kind cluster oui-local at $node_image"
    "$kind" create cluster --name oui-local --image "$node_image" --wait 180s --config - <<'KIND'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
  - {role: worker, labels: {topology.kubernetes.io/zone: a}}
  - {role: worker, labels: {topology.kubernetes.io/zone: b}}
  - {role: worker, labels: {topology.kubernetes.io/zone: c}}
KIND
  else
    say "reusing kind cluster oui-local"
  fi
  image=$(timed "image (image/build.sh)" bash image/build.sh | tail -n 1)
  "$kind" load docker-image "$image" --name oui-local
  say "target: kind cluster oui-local (context $OUI_KUBE_CONTEXT, KUBECONFIG=$KUBECONFIG), image $image"
  timed "playbook adopt.yml" "${playbook[@]}" playbooks/adopt.yml -e adopt_confirm=true
  timed "playbook site.yml" "${playbook[@]}" playbooks/site.yml -e "app_image_repository=${image%%:*}" -e "app_image_tag=${image#*:}"
  say "done: the app runs in kind; playbooks/verify.yml asked a pod for / (see 'Ask a running pod' above)"
  exit 0
fi

say "target: the project's test cluster (${why_not_kind:-OUI_UP_TARGET=test}; kind needs Docker and the internet)"
cluster=$(timed "cluster start (cluster/up.sh)" bash cluster/up.sh)
KUBECONFIG=$(kv KUBECONFIG <<<"$cluster")
HELM_PLUGINS=$(kv HELM_PLUGINS <<<"$cluster")
export KUBECONFIG HELM_PLUGINS
PATH="$(kv OUI_BIN_DIR <<<"$cluster"):$PATH"
# The platform's outside world (cluster/platform/up.sh), which the local inventory reads.
for key in OUI_CHART_MIRROR OUI_INGRESS_ADDRESS OUI_INGRESS_DOMAIN OUI_CA_BUNDLE OUI_ACME_SERVER OUI_ACME_CA_BUNDLE \
  OUI_DENIED_SOURCE_ADDRESS OUI_DENIED_SOURCE_NETNS; do
  export "$key=$(kv "$key" <<<"$cluster")"
done
say "test cluster: KUBECONFIG=$KUBECONFIG"

# The real node (cluster/node/) runs the add-ons' pods; without it only the app's objects go in.
real_node=$OUI_NODE_NAME
if [ "$(kubectl get node "$real_node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" != True ]; then
  timed "playbook app.yml" "${playbook[@]}" playbooks/app.yml
  timed "playbook access.yml" "${playbook[@]}" playbooks/access.yml
  timed "playbook verify.yml" "${playbook[@]}" playbooks/verify.yml
  say "skipped: the real node $real_node is not running (make cluster printed why; OUI_REAL_NODE=0 turns it off): no add-on"
  say "  (site.yml) and no pod really runs; the app's objects are deployed (namespace oui), its pods SIMULATED"
  exit 0
fi

# The whole platform: add-ons from the chart mirror (Traefik, cert-manager, metrics-server as pods
# on the real node), backups (Velero's location on the local backup stack, whose server validates
# it), the app (namespace oui, on the kwok nodes), access control, verify.
backup=$(timed "backup stack (backup/up.sh)" bash backup/up.sh)
OUI_LOCAL_S3_URL=$(kv OUI_LOCAL_S3_URL <<<"$backup")
export OUI_LOCAL_S3_URL
timed "playbook site.yml" "${playbook[@]}" playbooks/site.yml
say "done: playbooks/site.yml converged the platform on the test cluster (the app in namespace oui: its pods SIMULATED)"

# The same role deploys the app's image onto the real node, for real, with its own host name
# under the test bed's DNS zone: a certificate from the ACME server, served by Traefik.
host="real.$OUI_INGRESS_DOMAIN"
image=$(timed "image (image/build.sh)" bash image/build.sh | tail -n 1)
timed "image load into the real node" bash cluster/node/load-image.sh "$image"
timed "playbook app.yml (real node)" "${playbook[@]}" playbooks/app.yml -e "$(printf '{"app_namespace": "oui-real", "app_image_repository": "%s", "app_image_tag": "%s", "app_image_pull_policy": "Never", "app_hpa_min_replicas": 2, "app_hpa_max_replicas": 4, "app_ingress_host": "%s", "app_node_selector": {"node.oui.io/real": "true"}, "app_tolerations": [{"key": "node.oui.io/real", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]}' "${image%%:*}" "${image#*:}" "$host")"
kubectl -n oui-real get pods -o wide
timed "certificate of $host (ACME HTTP-01)" kubectl -n oui-real wait certificate/oui-app-tls --for=condition=Ready --timeout=300s
url="https://$host/"
answer=$(curl -s -m 10 --cacert "$OUI_CA_BUNDLE" --resolve "$host:443:$OUI_INGRESS_ADDRESS" "$url" || true)
if [ "$answer" != "Hello OUI!" ]; then
  say "FAILED: curl --cacert $OUI_CA_BUNDLE --resolve $host:443:$OUI_INGRESS_ADDRESS $url answered '${answer:-nothing}', not 'Hello OUI!'" >&2
  exit 1
fi
say "curl --cacert \$OUI_CA_BUNDLE --resolve $host:443:$OUI_INGRESS_ADDRESS $url -> $answer"
say "done: the app's pods REALLY RUN on the real node $real_node (namespace oui-real), image $image, served over HTTPS"
say "  by Traefik with a certificate from the ACME test server; repeat the request: eval \"\$(make -s cluster-env)\""
say "skipped: network and cluster (cloud only: site.yml's steps for EKS do nothing on local)"
