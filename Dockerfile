# The OUI app image: `docker build -t oui-app .` from the repository root.
#
# Base: the official Node.js image, Debian bookworm slim, pinned by version and digest.
# The digest is the one public repositories record for this tag (looked up, not verified
# against the registry from here, which is not reachable: check it with
# `docker buildx imagetools inspect node:24.21.0-bookworm-slim` when bumping). Keep the
# version in step with vars/versions.yml (node, node_image, node_image_digest).
# `make image` builds this same file offline against a locally assembled stand-in for
# this base (image/standin-base.sh), passed through this argument.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:0e0ff40c39bc087845bfb27465a0df4ea419520094bc35842ff83dd8cbe6f9b6

# ---- dependencies: production only, exactly the lockfile ---------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY app/package.json app/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: the base, the production node_modules and the app's own files --------------
FROM ${NODE_IMAGE} AS runtime
ARG NODE_IMAGE
ARG VERSION=2.0.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="oui-app" \
      org.opencontainers.image.description="The OUI demo app: Hello OUI!, health, readiness, Prometheus metrics" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/oui-team/devops-interview" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
ENV NODE_ENV=production \
    PORT=8000
WORKDIR /app
# Owned by root and not writable by the app's user: the process cannot change its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY app/package.json app/index.js ./
COPY app/src ./src
# The base image's `node` user, by number, so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8000
# Exec form, no shell: node is PID 1 and receives SIGTERM itself (app/src/server.js).
ENTRYPOINT ["/usr/local/bin/node", "index.js"]
