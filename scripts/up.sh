#!/usr/bin/env bash
# `make up`: build the local environment and deploy the app to it, saying what was done
# and what was skipped. Each area adds its part as it lands (mk/*.mk: UP_TARGETS).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
echo "up: Python environment: $(readlink .venv) ($(.venv/bin/python --version))"
echo "up: $(.venv/bin/ansible --version | head -1)"
if [ -n "${KUBECONFIG:-}" ]; then
  echo "up: deploying with inventories/local against KUBECONFIG=$KUBECONFIG"
  .venv/bin/ansible-playbook -i inventories/local/hosts.yml playbooks/site.yml
else
  echo "up: no cluster to deploy to (KUBECONFIG unset and no test cluster target yet): site.yml was not run"
fi
