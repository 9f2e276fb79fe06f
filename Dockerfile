# One image for every process (api, worker, simulator); docker-compose.yml picks the command.
# Node 24 runs the TypeScript sources directly (type stripping), so there is no build stage and
# the project's pinned `node` devDependency is not needed: `npm ci --omit=dev` is enough.
FROM node:24-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so the layer is cached until package.json or the lockfile changes.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The sources the processes run: entry points, libraries, and the JSON config with its schemas.
COPY apps/ ./apps/
COPY libs/ ./libs/
COPY config/ ./config/

# The SQLite result store lives on a volume mounted at /data; create it owned by the runtime user
# so a fresh named volume inherits that ownership.
RUN mkdir -p /data && chown node:node /data

USER node

# No HEALTHCHECK here: each process answers on its own port (the API's /readyz, the worker's
# metrics port), so docker-compose.yml gives each service its own.
EXPOSE 3000
CMD ["node", "apps/api/main.ts"]
