# syntax=docker/dockerfile:1
#
# Every Tandem app from one multi-stage build; each app is its own target and image:
#   docker build --target reconciler        -t tandem/reconciler .
#   docker build --target connector         -t tandem/connector .
#   docker build --target applier           -t tandem/applier .
#   docker build --target cli               -t tandem/cli .
#   docker build --target hubspot-simulator -t tandem/hubspot-simulator .
# The images hold compiled JavaScript and production dependencies only, and run as an unprivileged
# user (uid 1000). Each service listens on HTTP_PORT (8080) for /health/live and /health/ready.

ARG NODE_IMAGE=node:20-bookworm-slim

# 1. Every dependency, for the compiler, with the fixes in patches/ applied (see README, Kafka).
FROM ${NODE_IMAGE} AS deps
WORKDIR /build
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --ignore-scripts --no-audit --no-fund && npx patch-package --error-on-fail

# 2. TypeScript to CommonJS (swc, keeping Nest's decorator metadata; @tandem/* aliases become
#    relative requires), mirroring the source tree under dist/.
FROM deps AS compile
COPY tsconfig.base.json ./
COPY libs ./libs
COPY apps ./apps
COPY tools/build ./tools/build
RUN node -r @swc-node/register tools/build/src/main.ts dist

# 3. Production dependencies only; the patched ones as stage 1 patched them.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=deps /build/node_modules/kafkajs ./node_modules/kafkajs

# 4. What every app image shares. Files stay owned by root: the app cannot change its own code.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=prod-deps /build/node_modules ./node_modules
COPY --from=compile /build/dist ./dist
# Numeric, so Kubernetes' runAsNonRoot can verify it ("node" in the base image).
USER 1000:1000
EXPOSE 8080

# Services: node is PID 1 and handles SIGTERM itself (finish the batch, commit, close). The flags are
# SERVICE_NODE_FLAGS (libs/config): the heap capped as the services are sized (each stays under
# 300 MB resident), full collections spaced out, and garbage collected on the service's own thread,
# which costs less CPU under load.
FROM runtime AS reconciler
CMD ["node", "--max-old-space-size=192", "--heap-growing-percent=200", "--single-threaded-gc", "dist/apps/reconciler/src/main.js"]

FROM runtime AS connector
CMD ["node", "--max-old-space-size=192", "--heap-growing-percent=200", "--single-threaded-gc", "dist/apps/connector/src/main.js"]

FROM runtime AS applier
CMD ["node", "--max-old-space-size=192", "--heap-growing-percent=200", "--single-threaded-gc", "dist/apps/applier/src/main.js"]

# The simulated HubSpot account: API on PORT (8080), health on HEALTH_PORT (8081).
FROM runtime AS hubspot-simulator
EXPOSE 8081
CMD ["node", "--max-old-space-size=128", "dist/apps/hubspot-simulator/src/main.js"]

# The command line (`tandem sync apply …`), with psql for setting up demo databases.
FROM runtime AS cli
USER root
RUN apt-get update \
  && apt-get install -y --no-install-recommends postgresql-client \
  && rm -rf /var/lib/apt/lists/*
USER 1000:1000
ENTRYPOINT ["node", "dist/apps/cli/src/main.js"]
