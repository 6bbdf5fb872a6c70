# Backup and restore, proved offline: Velero and its AWS plugin built from their Go
# modules, run as a local process against the test cluster with moto's S3 on loopback. See backup/.
.PHONY: backup-build backup-up backup-down backup-drill

backup-build: ## build (once) velero and velero-plugin-for-aws from their Go modules into the cache
	@bash backup/build.sh

backup-up: venv ## start (or reuse) moto's S3 and a local velero server against the test cluster
	@eval "$$(bash cluster/env.sh 2>/dev/null)"; bash backup/up.sh

backup-down: ## stop the local velero server and moto's S3
	@bash backup/down.sh

backup-drill: backup-up ## run playbooks/restore_drill.yml against the test cluster
	@eval "$$(bash cluster/env.sh 2>/dev/null)"; $(BIN)/ansible-playbook -i inventories/local/hosts.yml playbooks/restore_drill.yml
