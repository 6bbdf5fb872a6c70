# Cloud roles (cloud_network, eks_cluster): their tests run with pytest (tests/cloud, markers cloud and unit).
.PHONY: bench-cloud-network test-cloud

test-cloud: venv ## cloud tier only: cloud_network and eks_cluster against moto_server (the modules' unit tests: make units)
	@bash scripts/pytest.sh tests/cloud

bench-cloud-network: venv ## time and AWS API calls of cloud_network: first converge vs no-change re-run
	@$(BIN)/python bench/cloud_network.py beta
