# The container image (Dockerfile at the root). `make image` builds it for real, offline:
# Debian's Docker engine is installed and started when none runs, and a locally assembled
# stand-in for the upstream Node.js base is passed through the NODE_IMAGE build argument.
# The image tests (tests/image, pytest marker `image`) run with `make test-py`.
.PHONY: image image-base docker-engine hadolint

docker-engine: ## make sure a Docker engine answers (installs/starts Debian's docker.io if needed)
	@bash image/docker-engine.sh >/dev/null

image-base: venv ## assemble the stand-in Node.js base image (once per set of inputs)
	@bash image/standin-base.sh

image: venv ## build the app image from the root Dockerfile (reused when its inputs are unchanged)
	@bash image/build.sh

hadolint: venv ## lint the Dockerfile
	@$(BIN)/hadolint Dockerfile && echo "hadolint: clean"

LINT_TARGETS += hadolint
