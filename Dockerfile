# syntax=docker/dockerfile:1
# MIRIX-TS: one image for the API, the worker and the migration step (the command differs):
#   docker build -t mirix-ts .
#   docker run mirix-ts                                   # API on :8000 (node dist/server/main.js)
#   docker run mirix-ts node dist/workers/main.js         # worker
#   docker run mirix-ts node dist/server/db/migrate.js    # migrations, then exit
ARG NODE_IMAGE=node:20.19-bookworm-slim

# 1. Compile TypeScript to JavaScript (dist/), with every dependency.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.sh scripts/build.sh
COPY server server
COPY workers workers
COPY shared shared
COPY migrations migrations
COPY client client
COPY web web
RUN npm run build

# 2. Production dependencies only (argon2 ships prebuilt binaries for linux/glibc).
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. The runtime: no compiler, no dev dependencies, not root.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000
WORKDIR /app
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
USER node
EXPOSE 8000
# Liveness only (no database round trip): /ready is for load balancers and Kubernetes.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/server/main.js"]
