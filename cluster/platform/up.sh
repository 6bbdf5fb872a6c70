#!/usr/bin/env bash
# The outside world the platform meets on the test cluster, as a cloud provider and the internet
# give it to a real cluster (docs/adr/0603-the-platform-on-the-test-cluster.md). Started, or
# reused when healthy, by cluster/up.sh after the real node, under the cluster lock; one step each:
#   mirror   the chart mirror: the shared folder's Helm repository (charts/) served read-only on
#            loopback, as an air-gapped site mirrors the charts it pins
#   images   the images of the platform's add-ons (group platform of cluster/components.yml) in
#            the real node's containerd: what a private registry mirror is to a real cluster
#   pebble   the ACME test server standing in for Let's Encrypt (a pod on the real node; its ACME
#            endpoint's certificate signed by the cluster's CA; its issuing root read back)
#   denied   a network namespace with a veth pair whose address (TEST-NET-2) is outside every
#            allow-list, routed to the node
# The ingress address is the node IP, and the node's CoreDNS answers the ingress domain with it
# (cluster/node/dns.sh). Prints KEY=value lines (cluster/up.sh passes them on):
#   OUI_CHART_MIRROR            the chart mirror's URL
#   OUI_INGRESS_ADDRESS         where the ingress controller's Service listens (the node IP)
#   OUI_INGRESS_DOMAIN          the zone whose every name resolves to it, inside the cluster
#   OUI_ACME_SERVER             Pebble's ACME directory URL (reached from inside the cluster)
#   OUI_ACME_CA_BUNDLE          the CA of Pebble's own endpoint (the ClusterIssuers' caBundle)
#   OUI_CA_BUNDLE               the trust anchors of certificates issued on local: Pebble's root
#                               (+ the platform's local-ca root once it exists)
#   OUI_DENIED_SOURCE_ADDRESS   a source address outside the allow-list; requests from it run in
#   OUI_DENIED_SOURCE_NETNS     this network namespace (ip netns exec ...)
# Without the real node only the mirror runs (the rest needs pods or the node IP).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/node/lib.sh
source "$here/../node/lib.sh"
OUI_LOG_TAG=platform
RUN="$OUI_PLATFORM_RUN"
MIRROR_URL="http://127.0.0.1:$OUI_CHART_MIRROR_PORT"
PEBBLE_HOST="pebble.$OUI_PEBBLE_NAMESPACE.svc"
mkdir -p "$RUN"

plog() { echo "[platform $(date -u +%H:%M:%S)] $*" >&2; }

# pid of a daemon of this step, only while its command line still names <text>.
daemon_pid() {
  local pid
  pid="$(cat "$RUN/$1.pid" 2>/dev/null)" || return 1
  alive "$pid" && pid_names "$pid" "$2" || return 1
  echo "$pid"
}

# --- mirror ------------------------------------------------------------------------------------
step_mirror() {
  local index dir pid
  index="$("$OUI_REPO/cluster/build.sh" shared charts/index.yaml | kv OUI_SHARED_PATH)"
  [[ -n "$index" ]] || return 1
  dir="$(dirname "$index")"
  if pid="$(daemon_pid mirror http.server)" && [[ "$(cat "$RUN/mirror.dir" 2>/dev/null)" == "$dir" ]] \
    && curl -sf -m 5 -o /dev/null "$MIRROR_URL/index.yaml"; then
    return 0
  fi
  [[ -z "${pid:-}" ]] || kill "$pid" 2>/dev/null || true
  if ss -Hltn "sport = :$OUI_CHART_MIRROR_PORT" 2>/dev/null | grep -q .; then
    plog "port $OUI_CHART_MIRROR_PORT (the chart mirror's) is taken: $(ss -Hltnp "sport = :$OUI_CHART_MIRROR_PORT" | head -1); choose another with OUI_CHART_MIRROR_PORT"
    return 1
  fi
  # Python's http.server answers GET and HEAD only: the mirror is read-only by construction.
  (close_inherited_fds; exec setsid nohup python3 -m http.server "$OUI_CHART_MIRROR_PORT" --bind 127.0.0.1 \
    --directory "$dir" >"$RUN/mirror.log" 2>&1 </dev/null) &
  echo $! >"$RUN/mirror.pid"
  echo "$dir" >"$RUN/mirror.dir"
  for _ in $(seq 1 40); do
    curl -sf -m 2 -o /dev/null "$MIRROR_URL/index.yaml" && { plog "chart mirror $MIRROR_URL serves $dir (read-only)"; return 0; }
    sleep 0.25
  done
  tail -n 5 "$RUN/mirror.log" >&2
  return 1
}

# --- images ------------------------------------------------------------------------------------
step_images() {
  local name info ref archive loaded=0
  "$OUI_REPO/cluster/build.sh" build -g platform >/dev/null || return 1
  for name in $("$OUI_REPO/cluster/build.sh" list | awk -F'\t' '$2 ~ /(^|\+)platform(\+|$)/ {print $1}'); do
    info="$("$OUI_REPO/cluster/build.sh" info "$name")"
    ref="$(kv IMAGE_REF <<<"$info")"
    archive="$(kv IMAGE_ARCHIVE <<<"$info")"
    [[ -n "$archive" ]] || continue
    # Loaded already: this very archive is in the node's reload list and its name in containerd.
    if grep -qxF "$archive" "$OUI_NODE_IMAGES" 2>/dev/null && node_ctr images ls -q "name==$ref" | grep -qxF "$ref"; then
      continue
    fi
    node_load_image "$archive" || return 1
    loaded=$((loaded + 1))
  done
  [[ $loaded == 0 ]] || plog "$loaded platform image(s) loaded into the real node's containerd"
}

# --- pebble ------------------------------------------------------------------------------------
# Pebble's ACME endpoint certificate, signed by the cluster's CA (renewed with a new cluster).
pebble_certs() {
  local d="$RUN/pebble"
  mkdir -p "$d"
  if cmp -s "$d/ca.crt" "$OUI_CLUSTER_STATE/pki/ca.crt" && [[ -s "$d/tls.crt" ]]; then return 0; fi
  cp "$OUI_CLUSTER_STATE/pki/ca.crt" "$d/ca.crt"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$d/tls.key" -subj "/CN=$PEBBLE_HOST" -out "$d/tls.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
    "DNS:$PEBBLE_HOST,DNS:$PEBBLE_HOST.cluster.local,DNS:pebble.$OUI_PEBBLE_NAMESPACE,DNS:pebble" >"$d/tls.ext"
  openssl x509 -req -in "$d/tls.csr" -CA "$OUI_CLUSTER_STATE/pki/ca.crt" -CAkey "$OUI_CLUSTER_STATE/pki/ca.key" \
    -CAcreateserial -CAserial "$d/ca.srl" -days 365 -sha256 -extfile "$d/tls.ext" -out "$d/tls.crt" 2>/dev/null
  chmod 600 "$d/tls.key"
}

pebble_objects() {
  local image="$1" sum="$2"
  cat <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $OUI_PEBBLE_NAMESPACE
  labels:
    app.kubernetes.io/part-of: oui-test-cluster
    pod-security.kubernetes.io/enforce: restricted
---
apiVersion: v1
kind: Secret
metadata:
  name: pebble-tls
  namespace: $OUI_PEBBLE_NAMESPACE
  labels: {app.kubernetes.io/name: pebble, app.kubernetes.io/part-of: oui-test-cluster}
type: kubernetes.io/tls
data:
  tls.crt: $(base64 -w0 "$RUN/pebble/tls.crt")
  tls.key: $(base64 -w0 "$RUN/pebble/tls.key")
---
# Validation on the standard ports (80 for HTTP-01), as Let's Encrypt does; the listeners on
# unprivileged ports. Profiles as Pebble's own test configuration.
apiVersion: v1
kind: ConfigMap
metadata:
  name: pebble-config
  namespace: $OUI_PEBBLE_NAMESPACE
  labels: {app.kubernetes.io/name: pebble, app.kubernetes.io/part-of: oui-test-cluster}
data:
  pebble-config.json: |
    {"pebble": {"listenAddress": "0.0.0.0:14000", "managementListenAddress": "0.0.0.0:15000",
      "certificate": "/etc/pebble/tls/tls.crt", "privateKey": "/etc/pebble/tls/tls.key",
      "httpPort": 80, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": false,
      "retryAfter": {"authz": 3, "order": 5}, "keyAlgorithm": "ecdsa",
      "profiles": {"default": {"description": "90 days, as Let's Encrypt's classic profile", "validityPeriod": 7776000}}}}
---
apiVersion: v1
kind: Service
metadata:
  name: pebble
  namespace: $OUI_PEBBLE_NAMESPACE
  labels: {app.kubernetes.io/name: pebble, app.kubernetes.io/part-of: oui-test-cluster}
spec:
  selector: {app.kubernetes.io/name: pebble}
  ports:
    - {name: acme, port: 14000, targetPort: 14000, protocol: TCP}
    - {name: management, port: 15000, targetPort: 15000, protocol: TCP}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pebble
  namespace: $OUI_PEBBLE_NAMESPACE
  labels: {app.kubernetes.io/name: pebble, app.kubernetes.io/part-of: oui-test-cluster}
spec:
  replicas: 1
  strategy: {type: Recreate}
  selector: {matchLabels: {app.kubernetes.io/name: pebble}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: pebble, app.kubernetes.io/part-of: oui-test-cluster}
      annotations: {oui.io/config-sum: "$sum"}
    spec:
      nodeSelector: {node.oui.io/real: "true"}
      tolerations: [{key: node.oui.io/real, operator: Equal, value: "true", effect: NoSchedule}]
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: pebble
          image: $image
          imagePullPolicy: IfNotPresent
          args: [-config, /etc/pebble/config/pebble-config.json]
          env:
            # Validate at once (no random 0-15 s sleep), never reject a nonce at random, and
            # validate every order afresh (no reuse of valid authorizations): each issuance,
            # renewals too, is a real HTTP-01 round trip through the ingress controller.
            - {name: PEBBLE_VA_NOSLEEP, value: "1"}
            - {name: PEBBLE_WFE_NONCEREJECT, value: "0"}
            - {name: PEBBLE_AUTHZREUSE, value: "0"}
          ports:
            - {name: acme, containerPort: 14000}
            - {name: management, containerPort: 15000}
          readinessProbe:
            tcpSocket: {port: 14000}
            periodSeconds: 2
          resources:
            requests: {cpu: 10m, memory: 32Mi}
            limits: {memory: 256Mi}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          volumeMounts:
            - {name: config, mountPath: /etc/pebble/config, readOnly: true}
            - {name: tls, mountPath: /etc/pebble/tls, readOnly: true}
      volumes:
        - {name: config, configMap: {name: pebble-config}}
        - {name: tls, secret: {secretName: pebble-tls}}
EOF
}

step_pebble() {
  local image objects sum ip tmp
  image="$("$OUI_REPO/cluster/build.sh" info pebble | kv IMAGE_REF)"
  pebble_certs
  objects="$(pebble_objects "$image" x)"
  sum="$(sha256sum <<<"$objects" | cut -c1-16)"
  pebble_objects "$image" "$sum" | node_kubectl apply --server-side --force-conflicts --field-manager oui-testbed -f - >/dev/null || return 1
  if ! node_kubectl -n "$OUI_PEBBLE_NAMESPACE" rollout status deployment/pebble --timeout=120s >/dev/null; then
    node_kubectl -n "$OUI_PEBBLE_NAMESPACE" get pods -o wide >&2 || true
    node_kubectl -n "$OUI_PEBBLE_NAMESPACE" logs deployment/pebble --tail=20 >&2 || true
    return 1
  fi
  # Pebble makes a new root each time it starts: read it back from its management API (through
  # its Service, verified against the cluster's CA), every time.
  ip="$(node_kubectl -n "$OUI_PEBBLE_NAMESPACE" get service pebble -o jsonpath='{.spec.clusterIP}')"
  tmp="$RUN/pebble-root.pem.tmp"
  for _ in $(seq 1 30); do
    if curl -sf -m 5 --cacert "$RUN/pebble/ca.crt" --resolve "$PEBBLE_HOST:15000:$ip" \
      "https://$PEBBLE_HOST:15000/roots/0" -o "$tmp" && grep -q 'BEGIN CERTIFICATE' "$tmp"; then
      mv "$tmp" "$RUN/pebble-root.pem"
      cp "$RUN/pebble/ca.crt" "$RUN/acme-ca.pem"
      return 0
    fi
    sleep 1
  done
  plog "could not read Pebble's root from https://$PEBBLE_HOST:15000/roots/0 (Service $ip)"
  return 1
}

# OUI_CA_BUNDLE: Pebble's issuing root, and the platform's local-ca root once cert-manager made it.
ca_bundle() {
  local local_ca
  local_ca="$(node_kubectl -n cert-manager get secret oui-local-ca -o jsonpath='{.data.ca\.crt}' 2>/dev/null | base64 -d 2>/dev/null || true)"
  { cat "$RUN/pebble-root.pem"; [[ -z "$local_ca" ]] || echo "$local_ca"; } >"$RUN/ca-bundle.pem.tmp"
  mv "$RUN/ca-bundle.pem.tmp" "$RUN/ca-bundle.pem"
}

# --- denied ------------------------------------------------------------------------------------
# The veth's host end routes the namespace's packets to the node; FORWARD accepts them whatever
# the machine's policy (Docker sets DROP), as a router between two networks would.
step_denied() {
  local ns="$OUI_DENIED_NETNS" host="$OUI_DENIED_VETH-h" peer="$OUI_DENIED_VETH-n" rule
  if ! ip netns list | grep -qw "^$ns"; then
    ip netns add "$ns"
  fi
  if ! ip link show "$host" >/dev/null 2>&1; then
    ip link add "$host" type veth peer name "$peer"
    ip link set "$peer" netns "$ns"
  fi
  ip addr replace "$OUI_DENIED_GATEWAY/24" dev "$host"
  ip link set "$host" up
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip addr replace "$OUI_DENIED_SOURCE_ADDRESS/24" dev "$peer"
  ip netns exec "$ns" ip link set "$peer" up
  ip netns exec "$ns" ip route replace default via "$OUI_DENIED_GATEWAY"
  for rule in "-i $host" "-o $host"; do
    # shellcheck disable=SC2086 # the rule's words
    iptables -C FORWARD $rule -m comment --comment oui-testbed -j ACCEPT 2>/dev/null \
      || iptables -I FORWARD 1 $rule -m comment --comment oui-testbed -j ACCEPT
  done
}

main() {
  local ip step
  step_mirror || oui_die "the chart mirror did not start (above)"
  echo "OUI_CHART_MIRROR=$MIRROR_URL"
  if ! node_ready; then
    plog "skipped: images, Pebble, the denied source and the ingress address need the real node $OUI_NODE_NAME, which is not running (make cluster printed why)"
    return 0
  fi
  for step in images pebble denied; do
    "step_$step" || oui_die "step $step of the platform's outside world failed (above)"
  done
  ca_bundle
  ip="$(host_ip)"
  echo "OUI_INGRESS_ADDRESS=$ip"
  echo "OUI_INGRESS_DOMAIN=$OUI_INGRESS_DOMAIN"
  echo "OUI_ACME_SERVER=https://$PEBBLE_HOST:14000/dir"
  echo "OUI_ACME_CA_BUNDLE=$RUN/acme-ca.pem"
  echo "OUI_CA_BUNDLE=$RUN/ca-bundle.pem"
  echo "OUI_DENIED_SOURCE_ADDRESS=$OUI_DENIED_SOURCE_ADDRESS"
  echo "OUI_DENIED_SOURCE_NETNS=$OUI_DENIED_NETNS"
}

main "$@"
