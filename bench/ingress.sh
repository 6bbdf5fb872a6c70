#!/usr/bin/env bash
# Bench the ingress path on the converged platform; prints figures and ratios, asserts nothing about timings.
#
# Requests per second and p99 latency of GET / with wrk (from Debian) on the test cluster, two
# ways to the same pod, in the same run:
#   ingress  https://<app host>/ through the ingress controller (Traefik and its ingress-nginx
#            provider, the app's Ingress of class nginx with its allow-list and SSL redirect), TLS
#            with the certificate cert-manager got by ACME: the path users take;
#   service  http://<Service's cluster IP>:<port>/ straight to the app's Service (kube-proxy to
#            the pod), plain HTTP: the baseline, what the ingress path adds to.
# The app is released by playbooks/app.yml on the local inventory into a namespace of its own on
# the real node with one replica (HPA min = max = 1: both ways reach the same single pod), its
# certificate awaited and the ingress path checked once with curl --cacert OUI_CA_BUNDLE (the
# certificate verified, `Hello OUI!`); the release is removed at the end.
# wrk takes the TLS server name (SNI) from the URL's host and cannot be told another address for
# it (no --resolve), and Traefik picks the certificate by SNI. So wrk runs in a private mount
# namespace (unshare --mount) in which /etc/hosts is a bind-mounted copy that maps the app's host
# to OUI_INGRESS_ADDRESS: SNI, Host header and certificate are those of a user's request, and the
# machine's /etc/hosts is not touched. (wrk does not verify certificates; curl verified the same
# name at the same address just before.) wrk keeps its connections open (HTTP/1.1 keep-alive):
# the TLS handshakes are few; the figures are those of requests on established connections.
# Round after round each way gets the same load in turn (the order alternates), so that noise
# from other work on the machine falls on both alike; each figure is given as the median over
# the rounds and the best round, with the ratio ingress/service.
#
# Needs the platform converged by site.yml on local and the environment of `make cluster-env`
# (KUBECONFIG, PATH, OUI_INGRESS_ADDRESS, OUI_INGRESS_DOMAIN, OUI_CA_BUNDLE); root (unshare).
#   BENCH_DURATION     seconds of load per way per round (default 5), after a 1 s warm-up
#   BENCH_CONNECTIONS  concurrent connections (default 20)
#   BENCH_ROUNDS       rounds (default 6)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
duration=${BENCH_DURATION:-5}
connections=${BENCH_CONNECTIONS:-20}
rounds=${BENCH_ROUNDS:-6}
for key in KUBECONFIG OUI_INGRESS_ADDRESS OUI_INGRESS_DOMAIN OUI_CA_BUNDLE; do
  [ -n "${!key:-}" ] || { echo "bench: $key is not set (eval \"\$(make -s cluster-env)\" first)" >&2; exit 1; }
done
# shellcheck source=cluster/lib/paths.sh
source "$repo/cluster/lib/paths.sh"

bash "$repo/image/apt-install.sh" wrk wrk
image=$(bash "$repo/image/build.sh" | tail -n 1)
bash "$repo/cluster/node/load-image.sh" "$image" >&2

namespace="oui-bench-ingress-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
host="$namespace.$OUI_INGRESS_DOMAIN"
work=$(mktemp -d)
play() {
  PATH="$repo/.venv/bin:$PATH" ANSIBLE_CONFIG="$repo/ansible.cfg" ansible-playbook -i "$repo/inventories/local/hosts.yml" "$repo/playbooks/app.yml" -e "$1" \
    >"$work/play.log" 2>&1 || { tail -n 40 "$work/play.log" >&2; echo "bench: playbooks/app.yml failed" >&2; return 1; }
}
app_vars=$(printf '{"app_namespace": "%s", "app_image_repository": "%s", "app_image_tag": "%s", "app_image_pull_policy": "Never", "app_hpa_min_replicas": 1, "app_hpa_max_replicas": 1, "app_ingress_host": "%s", "app_node_selector": {"node.oui.io/real": "true"}, "app_tolerations": [{"key": "node.oui.io/real", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]}' \
  "$namespace" "${image%%:*}" "${image#*:}" "$host")
cleanup() {
  play "${app_vars%\}}, \"app_state\": \"absent\"}" || echo "bench: removing namespace $namespace failed" >&2
  rm -rf "$work"
}
trap cleanup EXIT
play "$app_vars"
kubectl -n "$namespace" wait certificate/oui-app-tls --for=condition=Ready --timeout=300s >/dev/null
service="http://$(kubectl -n "$namespace" get service oui-app -o jsonpath='{.spec.clusterIP}:{.spec.ports[0].port}')/"
ingress="https://$host/"

# Traefik serves the Secret once it has synced it: until then its default certificate, which
# curl refuses. Wait (bounded) for the verified answer.
for _ in $(seq 1 60); do
  answer=$(curl -s -m 5 --cacert "$OUI_CA_BUNDLE" --resolve "$host:443:$OUI_INGRESS_ADDRESS" "$ingress" || true)
  [ "$answer" = "Hello OUI!" ] && break
  sleep 1
done
[ "$answer" = "Hello OUI!" ] || { echo "bench: $ingress answered '${answer:-nothing}' (curl --cacert $OUI_CA_BUNDLE)" >&2; exit 1; }
pod=$(kubectl -n "$namespace" get pods -l app.kubernetes.io/name=oui-app -o jsonpath='{.items[0].metadata.name}')

# wrk in a mount namespace of its own, where /etc/hosts maps the host to the ingress address.
{ cat /etc/hosts; echo "$OUI_INGRESS_ADDRESS $host"; } >"$work/hosts"
wrk_run() {
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare --mount sh -c 'mount --bind "$0" /etc/hosts && exec wrk "$@"' "$work/hosts" "$@"
}

# measure NAME URL -> prints "rps p99_ms"
measure() {
  wrk_run -t2 -c"$connections" -d1s "$2" >/dev/null  # warm-up (connections, handshakes)
  wrk_run -t2 -c"$connections" -d"${duration}s" --latency "$2" >"$work/$1.wrk"
  local errors; errors=$(awk '/Non-2xx|Socket errors/' "$work/$1.wrk")
  [ -z "$errors" ] || echo "bench: $1: $errors" >&2
  awk -f "$here/wrk-stats.awk" -f /dev/fd/3 "$work/$1.wrk" 3<<'AWK'
    /^Requests\/sec:/ { rps = $2 }
    $1 == "99%" { p99 = ms($2) }
    END { printf "%s %.3f\n", rps, p99 }
AWK
}

echo "bench: GET / with wrk, $connections connections, ${duration}s per way per round, $rounds rounds, $(nproc) CPUs (shared; load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "  one pod ($pod on $OUI_NODE_NAME, image $image); ingress: $ingress via $OUI_INGRESS_ADDRESS (Traefik, ACME certificate verified by curl); service: $service"
ways=(ingress service)
: >"$work/results"
for round in $(seq 1 "$rounds"); do
  line="  round $round:"
  for i in 0 1; do
    name=${ways[$(((i + round - 1) % 2))]}
    url=$([ "$name" = ingress ] && echo "$ingress" || echo "$service")
    read -r rps p99 < <(measure "$name" "$url")
    echo "$name $rps $p99" >>"$work/results"
    line+=$(printf ' %-7s %7.0f rps p99 %7.2f ms |' "$name" "$rps" "$p99")
  done
  echo "${line% |}"
done
awk -v rounds="$rounds" -f "$here/wrk-stats.awk" -f /dev/fd/3 "$work/results" 3<<'AWK'
  { rps[$1] = rps[$1] " " $2; p99[$1] = p99[$1] " " $3 }
  END {
    # median: the typical round; best: the least disturbed one
    for (w in rps) { R[w] = median(rps[w]); P[w] = median(p99[w]); BR[w] = most(rps[w]); BP[w] = least(p99[w]) }
    fmt = "  %-6s of %d rounds: ingress %6.0f rps p99 %7.2f ms | service %6.0f rps p99 %7.2f ms\n"
    printf fmt, "median", rounds, R["ingress"], P["ingress"], R["service"], P["service"]
    printf fmt, "best", rounds, BR["ingress"], BP["ingress"], BR["service"], BP["service"]
    printf "  ingress/service: rps %.2f (median) %.2f (best); p99 %.2f (median) %.2f (best)\n",
      R["ingress"] / R["service"], BR["ingress"] / BR["service"], P["ingress"] / P["service"], BP["ingress"] / BP["service"]
  }
AWK
