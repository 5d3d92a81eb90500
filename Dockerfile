# bouncer's image: the compiled CLI and its production dependencies on distroless Node.
#
# With a registry, `docker build .` uses the default base images below. Without one,
# hack/images.sh makes local stand-ins of both and passes them as BUILD_IMAGE and RUNTIME_IMAGE
# (`hack/images.sh bouncer TAG` builds this file either way). BuildKit is required (secret and
# cache mounts); no `# syntax=` line, so the builder's own Dockerfile frontend is used and
# nothing is pulled for it.
#
# Network: `npm ci` in the build stages trusts the CA bundle passed as the optional secret
# `ca-bundle` (`--secret id=ca-bundle,src=/etc/ssl/certs/ca-certificates.crt`), for builds behind
# a TLS-intercepting proxy. A secret mount is never part of a layer, and the final stage copies
# only node_modules, dist, bin, package.json and the SBOM (test/e2e/image.test.ts checks the
# built image's file list).
ARG BUILD_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# `prepare` would compile before the sources are copied; the build step below does it.
RUN --mount=type=secret,id=ca-bundle --mount=type=cache,id=bouncer-npm,target=/root/.npm \
    if [ -s /run/secrets/ca-bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-bundle; fi; \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# A clean install without devDependencies, so nothing from the build leaks into the image,
# and the dependency list of exactly what it installed (a CycloneDX SBOM, hack/image/sbom.mjs).
FROM ${BUILD_IMAGE} AS prune
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca-bundle --mount=type=cache,id=bouncer-npm,target=/root/.npm \
    if [ -s /run/secrets/ca-bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-bundle; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund
RUN --mount=type=bind,source=hack/image/sbom.mjs,target=/tmp/sbom.mjs \
    node /tmp/sbom.mjs /app > /app/sbom.cdx.json

FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="bouncer" \
      org.opencontainers.image.description="Kubernetes admission webhook enforcing Rego policies compiled to WebAssembly" \
      org.opencontainers.image.source="https://github.com/bouncer-dev/bouncer" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
WORKDIR /app
ENV NODE_ENV=production
COPY --from=prune /app/node_modules ./node_modules
COPY --from=prune /app/sbom.cdx.json ./sbom.cdx.json
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY package.json ./
# The distroless nonroot user, numeric so that runAsNonRoot can check it; the Deployment's
# runAsUser matches.
USER 65532:65532
EXPOSE 8443 8080
# No HEALTHCHECK: Kubernetes probes /healthz and /readyz.
ENTRYPOINT ["/nodejs/bin/node", "bin/bouncer.js"]
CMD ["serve"]
