# syntax=docker/dockerfile:1
# bouncer's image: the compiled CLI and its production dependencies on distroless Node.
# test/e2e/image-layout.test.ts reproduces the runtime file set without a Docker engine.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# `prepare` would compile before the sources are copied; the build step below does it.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# A clean install without devDependencies, so nothing from the build leaks into the image.
FROM node:24-bookworm-slim AS prune
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM gcr.io/distroless/nodejs24-debian12:nonroot
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
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY package.json ./
# The distroless nonroot user; the Deployment's runAsUser matches.
USER 65532:65532
EXPOSE 8443 8080
# No HEALTHCHECK: Kubernetes probes /healthz and /readyz.
ENTRYPOINT ["/nodejs/bin/node", "bin/bouncer.js"]
CMD ["serve"]
