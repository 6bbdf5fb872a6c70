# Backup and restore, proved offline: Velero and its AWS plugin built from their Go modules (group
# backup of cluster/components.yml), run as a local process against the test cluster with moto's S3
# on loopback. See backup/.
.PHONY: backup-build backup-up backup-down backup-drill

backup-build: venv ## build (once per key) velero and velero-plugin-for-aws from their Go modules into the cache
	@bash cluster/build.sh build -g backup >/dev/null

# The cluster's KEY=value lines (cluster/up.sh) as the environment of one command.
WITH_CLUSTER = source cluster/lib/common.sh; c=$$(bash cluster/up.sh); \
  KUBECONFIG=$$(kv KUBECONFIG <<<"$$c") HELM_PLUGINS=$$(kv HELM_PLUGINS <<<"$$c") PATH=$$(kv OUI_BIN_DIR <<<"$$c"):$$PATH

backup-up: venv ## start (or reuse) moto's S3 and a local velero server against the test cluster
	@$(WITH_CLUSTER) bash backup/up.sh

backup-down: ## stop the local velero server and moto's S3
	@bash backup/down.sh

backup-drill: backup-up ## run playbooks/restore_drill.yml against the test cluster
	@$(WITH_CLUSTER) $(BIN)/ansible-playbook -i inventories/local/hosts.yml playbooks/restore_drill.yml
