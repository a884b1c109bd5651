// deploy/k8s validated offline: every document against the Kubernetes JSON schemas
// (kubernetes-models, @kubernetes-models/keda and /prometheus-operator), the Strimzi and
// CloudNativePG resources against crd-schemas.ts, and the pieces that must agree with the
// code: one Deployment per app with probes, resources and a non-root context, config keys
// that the apps declare, topics equal to libs/events, autoscaling on the right groups.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { APP_PORTS } from '@mailroom/config';
import { ALL_TOPICS } from '@mailroom/events';
import { CRD_SCHEMAS } from './crd-schemas.js';
import {
  APPS,
  ASSUMED_VARIABLES,
  K8S_DIR,
  ROOT,
  allAppVariables,
  appDefault,
  appVariables,
  kindOf,
  loadManifests,
  nameOf,
  yamlFiles,
  type AppName,
  type Manifest,
} from './manifests.js';

interface Validatable {
  validate(): void;
}
type ModelModule = Record<string, new (data: unknown) => Validatable>;

// The model package of each API group outside the built-in ones.
const MODEL_PACKAGES: Record<string, string> = {
  'keda.sh': '@kubernetes-models/keda',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

async function validateModel(m: Manifest): Promise<void> {
  const apiVersion = String(m.doc.apiVersion);
  const kind = String(m.doc.kind);
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
  const pkg = MODEL_PACKAGES[group] ?? 'kubernetes-models';
  let mod: ModelModule;
  try {
    mod = (await import(`${pkg}/${apiVersion}/${kind}`)) as ModelModule;
  } catch {
    throw new Error(`${m.file}: no schema for ${apiVersion} ${kind}`);
  }
  const Model = mod[kind];
  if (!Model) throw new Error(`${m.file}: ${pkg} has no ${kind}`);
  new Model(m.doc).validate();
}

// kubernetes-models accepts unknown fields; a misspelt probe or limit would pass silently,
// so the fields of the containers, the part edited most, are checked by name.
const CONTAINER_FIELDS = new Set([
  'name',
  'image',
  'imagePullPolicy',
  'command',
  'args',
  'workingDir',
  'ports',
  'env',
  'envFrom',
  'startupProbe',
  'livenessProbe',
  'readinessProbe',
  'resources',
  'securityContext',
  'volumeMounts',
  'lifecycle',
]);

interface Probe {
  httpGet?: { path?: string; port?: string | number };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean };
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}
interface Workload {
  metadata: { name: string };
  spec: { replicas?: number; template: { spec: PodSpec } };
}
interface ServiceDoc {
  metadata: { name: string };
  spec: {
    selector: Record<string, string>;
    ports: { port: number; targetPort: string | number }[];
  };
}
interface TopicDoc {
  spec: {
    topicName?: string;
    partitions: number;
    replicas: number;
    config?: Record<string, unknown>;
  };
}
interface ScaledObjectDoc {
  metadata: { name: string };
  spec: {
    scaleTargetRef: { name: string };
    minReplicaCount?: number;
    maxReplicaCount?: number;
    triggers: { type: string; metadata: Record<string, string> }[];
  };
}
interface KustomizationDoc {
  namespace?: string;
  resources?: string[];
  patches?: { path?: string }[];
  images?: { name: string }[];
}

const manifests = loadManifests();
const ofKind = <T>(kind: string) =>
  manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc as unknown as T);
const base = (kind: string, name: string) =>
  manifests.find(
    (m) => m.file.startsWith('deploy/k8s/base/') && m.doc.kind === kind && nameOf(m) === name,
  );
const deployment = (app: AppName) => base('Deployment', app)?.doc as unknown as Workload;
const containerOf = (app: AppName) => deployment(app).spec.template.spec.containers[0]!;
const configMap = base('ConfigMap', 'mailroom-config')!.doc as { data: Record<string, string> };
const kustomizations = manifests.filter((m) => m.doc.kind === 'Kustomization');
const overlay = kustomizations.find((m) => m.file.includes('/overlays/'))!
  .doc as unknown as KustomizationDoc;

describe('deploy/k8s: schemas', () => {
  it('finds the base and an overlay', () => {
    expect(kustomizations.map((k) => k.file).sort()).toEqual([
      'deploy/k8s/base/kustomization.yaml',
      'deploy/k8s/overlays/example/kustomization.yaml',
    ]);
    expect(manifests.length).toBeGreaterThan(20);
  });

  it('validates every built-in, KEDA and Prometheus Operator resource against its schema', async () => {
    const modelled = manifests.filter(
      (m) => m.doc.kind !== 'Kustomization' && !CRD_SCHEMAS[kindOf(m)],
    );
    const failures: string[] = [];
    for (const m of modelled) {
      await validateModel(m).catch((err: unknown) =>
        failures.push(`${m.file} ${kindOf(m)} ${nameOf(m)}: ${(err as Error).message}`),
      );
    }
    expect(failures).toEqual([]);
    expect(new Set(modelled.map(kindOf))).toEqual(
      new Set([
        'v1/ConfigMap',
        'v1/Service',
        'v1/Secret',
        'v1/Namespace',
        'apps/v1/Deployment',
        'batch/v1/Job',
        'keda.sh/v1alpha1/ScaledObject',
        'monitoring.coreos.com/v1/PodMonitor',
      ]),
    );
  });

  it('rejects a resource that breaks the schema (the validator is live)', async () => {
    const broken = structuredClone(base('Deployment', 'router')!);
    (broken.doc.spec as { replicas: unknown }).replicas = 'two';
    await expect(validateModel(broken)).rejects.toThrow(/replicas/);
  });

  it('checks the Strimzi and CloudNativePG resources against their required fields', () => {
    const crds = manifests.filter((m) => CRD_SCHEMAS[kindOf(m)]);
    const errors = crds.flatMap((m) =>
      [...Value.Errors(CRD_SCHEMAS[kindOf(m)]!, m.doc)].map(
        (e) => `${m.file} ${kindOf(m)} ${nameOf(m)} ${e.path}: ${e.message}`,
      ),
    );
    expect(errors).toEqual([]);
    expect(crds.map((m) => m.doc.kind).sort()).toEqual([
      'Cluster',
      'Kafka',
      'KafkaNodePool',
      ...ALL_TOPICS.map(() => 'KafkaTopic'),
    ]);
  });

  it('every container uses known fields only', () => {
    const pods = ofKind<Workload>('Deployment').concat(ofKind<Workload>('Job'));
    const unknown = pods.flatMap((w) =>
      w.spec.template.spec.containers.flatMap((c) =>
        Object.keys(c)
          .filter((k) => !CONTAINER_FIELDS.has(k))
          .map((k) => `${w.metadata.name}/${c.name}: ${k}`),
      ),
    );
    expect(unknown).toEqual([]);
  });

  it('every YAML file is a resource or patch of a kustomization, and every reference exists', () => {
    const referenced = new Set<string>();
    for (const k of kustomizations) {
      const doc = k.doc as unknown as KustomizationDoc;
      const dir = dirname(join(ROOT, k.file));
      for (const ref of [
        ...(doc.resources ?? []),
        ...(doc.patches ?? []).flatMap((p) => p.path ?? []),
      ]) {
        const path = join(dir, ref);
        expect(existsSync(path), `${k.file} → ${ref}`).toBe(true);
        referenced.add(relative(ROOT, path));
      }
    }
    const files = yamlFiles(K8S_DIR).map((f) => relative(ROOT, f));
    const orphans = files.filter((f) => !f.endsWith('kustomization.yaml') && !referenced.has(f));
    expect(orphans).toEqual([]);
    expect(referenced.has('deploy/k8s/base')).toBe(true);
  });
});

describe('deploy/k8s: the apps', () => {
  it.each(APPS)('%s: a Deployment with probes, resources and a non-root context', (app) => {
    const d = deployment(app);
    expect(d, `deploy/k8s/base has no Deployment ${app}`).toBeDefined();
    const pod = d.spec.template.spec;
    expect(pod.containers).toHaveLength(1);
    const c = containerOf(app);
    expect(c.image).toBe(`mailroom/${app}:latest`);
    const port = c.ports?.find((p) => p.containerPort === APP_PORTS[app]);
    expect(port?.name, `${app} exposes ${APP_PORTS[app]} by name`).toBeTruthy();
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/health', port: port!.name });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/ready', port: port!.name });
    expect(c.startupProbe?.httpGet).toEqual({ path: '/health', port: port!.name });
    for (const r of ['cpu', 'memory']) {
      expect(c.resources?.requests?.[r], `${app} requests ${r}`).toBeTruthy();
      expect(c.resources?.limits?.[r], `${app} limits ${r}`).toBeTruthy();
    }
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
    // The port the app listens on is the one the probes and the Service use.
    const env = new Map(c.env?.map((e) => [e.name, e.value]));
    expect(env.get(app === 'intake-api' ? 'PORT' : 'METRICS_PORT')).toBe(String(APP_PORTS[app]));
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'mailroom-config' } }]);
  });

  it.each(APPS)('%s: a Service on its port', (app) => {
    const svc = base('Service', app)?.doc as unknown as ServiceDoc;
    expect(svc, `deploy/k8s/base has no Service ${app}`).toBeDefined();
    expect(svc.spec.selector).toEqual({ 'app.kubernetes.io/name': app });
    const names = containerOf(app).ports?.map((p) => p.name);
    expect(names).toContain(svc.spec.ports[0]!.targetPort);
  });

  it('every variable of the ConfigMaps and Deployments is declared by an app that gets it', () => {
    const declared = allAppVariables();
    const configKeys = manifests
      .filter((m) => m.doc.kind === 'ConfigMap')
      .flatMap((m) => Object.keys((m.doc.data as Record<string, string> | undefined) ?? {}));
    const undeclared = [...new Set(configKeys)].filter(
      (k) => !declared.has(k) && !ASSUMED_VARIABLES.has(k),
    );
    expect(undeclared).toEqual([]);
    // A Deployment's own variables must be in that app's schema (a typo is otherwise ignored).
    for (const app of APPS) {
      const own = appVariables(app);
      const names = containerOf(app).env?.map((e) => e.name) ?? [];
      expect(
        names.filter((n) => !own.has(n)),
        `${app} sets variables its config does not declare`,
      ).toEqual([]);
    }
  });

  it('the Secret of the overlay holds every key the Deployments read, and no other', () => {
    const secret = manifests.find((m) => m.doc.kind === 'Secret')!.doc as {
      stringData: Record<string, string>;
    };
    const used = new Set(
      APPS.flatMap((app) =>
        (containerOf(app).env ?? []).flatMap((e) =>
          e.valueFrom?.secretKeyRef?.name === 'mailroom-secrets'
            ? [e.valueFrom.secretKeyRef.key]
            : [],
        ),
      ),
    );
    expect(new Set(Object.keys(secret.stringData))).toEqual(used);
    const declared = allAppVariables();
    expect([...used].filter((k) => !declared.has(k))).toEqual([]);
    // The database credentials come from CloudNativePG's generated Secret.
    const pg = base('Cluster', 'mailroom-pg')!.doc as { metadata: { name: string } };
    const dbRefs = APPS.flatMap((app) =>
      (containerOf(app).env ?? []).filter((e) => e.name === 'DATABASE_URL'),
    );
    expect(dbRefs.length).toBeGreaterThan(0);
    for (const e of dbRefs) {
      expect(e.valueFrom?.secretKeyRef).toEqual({ name: `${pg.metadata.name}-app`, key: 'uri' });
    }
  });

  it('intake-api checks the health of the apps through their Services', () => {
    const env = containerOf('intake-api').env ?? [];
    const urls = env.find((e) => e.name === 'PIPELINE_HEALTH_URLS')!.value!.split(',');
    const others = APPS.filter((a) => a !== 'intake-api');
    expect(urls.sort()).toEqual(
      others.map((a) => `${a}=http://${a}:${APP_PORTS[a]}/health`).sort(),
    );
  });

  it('the migration Job runs the migrations with an app image', () => {
    const job = base('Job', 'mailroom-migrate')!.doc as unknown as Workload;
    const c = job.spec.template.spec.containers[0]!;
    expect(c.image).toMatch(/^mailroom\/[a-z-]+:latest$/);
    expect(c.command).toEqual(['node', '--import', 'tsx', 'libs/db/src/migrate-cli.ts', 'up']);
    expect(existsSync(join(ROOT, 'libs/db/src/migrate-cli.ts'))).toBe(true);
    expect(job.spec.template.spec.securityContext?.runAsNonRoot).toBe(true);
  });

  it('the overlay rewrites the image of every app and sets a namespace', () => {
    expect(overlay.namespace).toBe('mailroom');
    expect(overlay.images?.map((i) => i.name).sort()).toEqual(
      APPS.map((a) => `mailroom/${a}`).sort(),
    );
  });
});

describe('deploy/k8s: Kafka, topics and autoscaling', () => {
  const partitions = Number(configMap.data.KAFKA_TOPIC_PARTITIONS);

  it('a KafkaTopic for each topic of libs/events, replicated 3 times with min.insync.replicas 2', () => {
    const topics = ofKind<TopicDoc>('KafkaTopic');
    expect(topics.map((t) => t.spec.topicName).sort()).toEqual([...ALL_TOPICS].sort());
    for (const t of topics) {
      // Equal to KAFKA_TOPIC_PARTITIONS: the apps' ensureTopics grows a smaller topic.
      expect(t.spec.partitions, t.spec.topicName).toBe(partitions);
      expect(t.spec.replicas).toBe(3);
      expect(Number(t.spec.config?.['min.insync.replicas'])).toBe(2);
    }
    expect(configMap.data.KAFKA_REPLICATION_FACTOR).toBe('3');
  });

  it('Kafka runs in KRaft mode with node pools and the bootstrap Service the apps use', () => {
    const kafka = base('Kafka', 'mailroom-kafka')!.doc as {
      metadata: { name: string; annotations: Record<string, string> };
      spec: {
        kafka: { config: Record<string, unknown>; listeners: { name: string; port: number }[] };
      };
    };
    expect(kafka.metadata.annotations).toMatchObject({
      'strimzi.io/kraft': 'enabled',
      'strimzi.io/node-pools': 'enabled',
    });
    const pool = manifests.find((m) => m.doc.kind === 'KafkaNodePool')!.doc as {
      metadata: { labels: Record<string, string> };
      spec: { replicas: number; roles: string[] };
    };
    expect(pool.metadata.labels['strimzi.io/cluster']).toBe(kafka.metadata.name);
    expect(pool.spec.roles.sort()).toEqual(['broker', 'controller']);
    expect(pool.spec.replicas).toBeGreaterThanOrEqual(3);
    expect(kafka.spec.kafka.config['min.insync.replicas']).toBe(2);
    const plain = kafka.spec.kafka.listeners.find((l) => l.name === 'plain')!;
    expect(configMap.data.KAFKA_BROKERS).toBe(
      `${kafka.metadata.name}-kafka-bootstrap:${plain.port}`,
    );
  });

  it.each([
    ['categorizer', 'CATEGORIZER_GROUP_ID'],
    ['notifier', 'NOTIFIER_GROUP_ID'],
  ] as const)('%s scales with KEDA on the lag of its consumer group', (app, groupVar) => {
    const so = ofKind<ScaledObjectDoc>('ScaledObject').find(
      (s) => s.spec.scaleTargetRef.name === app,
    );
    expect(so, `no ScaledObject for ${app}`).toBeDefined();
    const trigger = so!.spec.triggers.find((t) => t.type === 'kafka')!;
    expect(trigger.metadata.consumerGroup).toBe(appDefault(app, groupVar));
    expect(trigger.metadata.topic).toBe('tickets.events');
    expect(Number(trigger.metadata.lagThreshold)).toBeGreaterThan(0);
    // The operator runs in another namespace: the fully qualified Service name.
    expect(trigger.metadata.bootstrapServers).toBe(
      configMap.data.KAFKA_BROKERS!.replace(':', `.${overlay.namespace}.svc:`),
    );
    // Each notifier process is NOTIFIER_CONSUMERS members of its group.
    const members = app === 'notifier' ? Number(appDefault(app, 'NOTIFIER_CONSUMERS')) : 1;
    expect(members).toBeGreaterThanOrEqual(1);
    expect(so!.spec.maxReplicaCount! * members).toBeLessThanOrEqual(partitions);
    expect(so!.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    // The HPA owns the replica count.
    expect(deployment(app).spec.replicas).toBeUndefined();
  });

  it('the PodMonitor labels targets like deploy/prometheus/prometheus.yml (job mailroom, app)', () => {
    const pm = manifests.find((m) => m.doc.kind === 'PodMonitor')!.doc as {
      spec: {
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: {
          port: string;
          relabelings: { targetLabel: string; replacement?: string }[];
        }[];
      };
    };
    const ports = new Set(APPS.flatMap((a) => containerOf(a).ports?.map((p) => p.name) ?? []));
    expect(new Set(pm.spec.podMetricsEndpoints.map((e) => e.port))).toEqual(ports);
    const prometheus = parse(
      readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8'),
    ) as {
      scrape_configs: { job_name: string }[];
    };
    expect(prometheus.scrape_configs.map((s) => s.job_name)).toContain('mailroom');
    for (const e of pm.spec.podMetricsEndpoints) {
      expect(e.relabelings).toContainEqual({ targetLabel: 'job', replacement: 'mailroom' });
      expect(e.relabelings.map((r) => r.targetLabel)).toContain('app');
    }
    for (const app of APPS) {
      expect(deployment(app).spec.template).toMatchObject({
        metadata: { labels: pm.spec.selector.matchLabels },
      });
    }
  });
});
