# syntax=docker/dockerfile:1
# klaxon's container image.
#
#   docker build -t klaxon:0.1.0 .
#   docker run --rm -p 9464:9464 klaxon:0.1.0          # the built-in demo config
#   docker run --rm -p 9464:9464 -v $PWD/my.yaml:/etc/klaxon/klaxon.yaml:ro klaxon:0.1.0
#   docker run --rm klaxon:0.1.0 produce-demo --brokers kafka:9092 --topic features
ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: compile TypeScript with the full (dev) dependency set -----------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc before the sources are here; the build is below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY assembly ./assembly
COPY scripts/build-wasm.mjs ./scripts/
COPY src ./src
COPY bench ./bench
RUN npm run build

# --- runtime: production dependencies, the compiled code and the default config ---------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
# The default --config is the built-in demo config; mount your own over it. State
# (reference snapshots) goes to a writable directory the klaxon user owns.
RUN mkdir -p /etc/klaxon && cp config/klaxon.yaml /etc/klaxon/klaxon.yaml \
 && install -d -o 1000 -g 1000 /var/lib/klaxon /app/.klaxon-state
# The base image's `node` user, by number so that Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 9464
# No curl or wget in slim images: Node's own fetch. Follows http.port only if that stays 9464.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["run", "--config", "/etc/klaxon/klaxon.yaml"]
