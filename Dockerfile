# The OUI app image: `docker build -t oui-app .` from the repository root.
#
# Two upstream bases, each pinned by version (tag) and digest. The digests are the ones public
# repositories record for these tags (looked up, not verified against the registries from here,
# which are not reachable: check them with `docker buildx imagetools inspect <image>` when
# bumping). Keep them in step with vars/versions.yml (node_image, node_image_digest,
# runtime_image, runtime_image_digest).
#   NODE_IMAGE     the official Node.js image: npm for the dependencies, and the Node binary
#                  and the shared libraries it links to, copied into the runtime;
#   RUNTIME_IMAGE  distroless static (Debian 12, user nonroot): CA certificates, tzdata,
#                  /etc/passwd and /etc/group entries, no shell, no package manager.
# `make image` builds this same file offline against locally assembled stand-ins for both
# (image/standin-base.sh), passed through these arguments.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:0e0ff40c39bc087845bfb27465a0df4ea419520094bc35842ff83dd8cbe6f9b6
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639

# ---- dependencies: production only, exactly the lockfile ---------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY app/package.json app/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- what the Node binary needs to run, laid out for the runtime base ---------------------
# ldd lists the shared libraries node loads (glibc's, libstdc++, libgcc_s) and the dynamic
# loader it names; each is copied (dereferenced) to the same path under /out, for whatever
# architecture this stage builds. Each library's Debian package record goes to
# /var/lib/dpkg/status.d/, where distroless images keep theirs, so that image scanners see
# those packages and their versions. The last command runs node from /out alone.
FROM ${NODE_IMAGE} AS node-runtime
SHELL ["/bin/bash", "-euo", "pipefail", "-c"]
RUN mkdir -p /out/usr/local/bin /out/app /out/var/lib/dpkg/status.d \
 && cp /usr/local/bin/node /out/usr/local/bin/node \
 && ldd /usr/local/bin/node | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }' | sort -u >/tmp/libs \
 && while read -r lib; do \
      cp --dereference --parents "$lib" /out; \
      dpkg -S "*/${lib##*/}" | cut -d: -f1 >>/tmp/packages; \
    done </tmp/libs \
 && sort -u /tmp/packages | while read -r pkg; do dpkg-query -s "$pkg" >"/out/var/lib/dpkg/status.d/$pkg"; done \
 && chroot /out /usr/local/bin/node --version

# ---- runtime: distroless base, node and its libraries, production node_modules, the app ---
FROM ${RUNTIME_IMAGE} AS runtime
ARG RUNTIME_IMAGE
ARG VERSION=2.0.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="oui-app" \
      org.opencontainers.image.description="The OUI demo app: Hello OUI!, health, readiness, Prometheus metrics" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/oui-team/devops-interview" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}"
ENV NODE_ENV=production \
    PORT=8000
# Owned by root and not writable by the app's user: the process cannot change its own code.
COPY --from=node-runtime /out/ /
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY app/package.json app/index.js ./
COPY app/src ./src
# The base's `nonroot` user, by number, so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8000
# Exec form, no shell (there is none): node is PID 1 and receives SIGTERM itself
# (app/src/server.js).
ENTRYPOINT ["/usr/local/bin/node", "index.js"]
