// The fields of the operators' custom resources that deploy/k8s relies on. No model package
// exists for Strimzi or CloudNativePG on the npm registry (KEDA's and the Prometheus
// Operator's are validated with @kubernetes-models/*), so these small schemas check the
// required fields and their types, after the operators' CRDs (Strimzi 0.47 v1beta2,
// CloudNativePG 1.25 v1). Unknown extra fields are allowed, as in the CRDs' own schemas
// where they use x-kubernetes-preserve-unknown-fields (e.g. Kafka `config`).
import { Type, type TSchema } from '@sinclair/typebox';

const Name = Type.String({ pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 });
const Quantity = Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$' });
const Resources = Type.Object({
  requests: Type.Optional(Type.Record(Type.String(), Quantity)),
  limits: Type.Optional(Type.Record(Type.String(), Quantity)),
});
const Metadata = (labels?: TSchema) =>
  Type.Object({
    name: Name,
    ...(labels ? { labels } : {}),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
  });
const ClusterLabel = Type.Object({ 'strimzi.io/cluster': Name });
const Config = Type.Record(
  Type.String(),
  Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
);

const StrimziVolume = Type.Object({
  id: Type.Integer({ minimum: 0 }),
  type: Type.Union([Type.Literal('persistent-claim'), Type.Literal('ephemeral')]),
  size: Type.Optional(Quantity),
  deleteClaim: Type.Optional(Type.Boolean()),
  kraftMetadata: Type.Optional(Type.Literal('shared')),
});

export const KafkaNodePoolSchema = Type.Object({
  apiVersion: Type.Literal('kafka.strimzi.io/v1beta2'),
  kind: Type.Literal('KafkaNodePool'),
  metadata: Metadata(ClusterLabel),
  spec: Type.Object({
    replicas: Type.Integer({ minimum: 1 }),
    roles: Type.Array(Type.Union([Type.Literal('controller'), Type.Literal('broker')]), {
      minItems: 1,
      uniqueItems: true,
    }),
    storage: Type.Union([
      Type.Object({
        type: Type.Literal('jbod'),
        volumes: Type.Array(StrimziVolume, { minItems: 1 }),
      }),
      StrimziVolume,
    ]),
    resources: Type.Optional(Resources),
    jvmOptions: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});

const Listener = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9]{1,11}$' }),
  port: Type.Integer({ minimum: 9092 }),
  type: Type.Union(
    ['internal', 'route', 'loadbalancer', 'nodeport', 'ingress', 'cluster-ip'].map((t) =>
      Type.Literal(t),
    ),
  ),
  tls: Type.Boolean(),
});

export const KafkaSchema = Type.Object({
  apiVersion: Type.Literal('kafka.strimzi.io/v1beta2'),
  kind: Type.Literal('Kafka'),
  metadata: Metadata(),
  spec: Type.Object({
    kafka: Type.Object({
      version: Type.String({ pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' }),
      metadataVersion: Type.Optional(Type.String({ pattern: '^[0-9]+\\.[0-9]+-IV[0-9]+$' })),
      listeners: Type.Array(Listener, { minItems: 1 }),
      config: Type.Optional(Config),
    }),
    entityOperator: Type.Optional(
      Type.Object({
        topicOperator: Type.Optional(Type.Object({})),
        userOperator: Type.Optional(Type.Object({})),
      }),
    ),
  }),
});

export const KafkaTopicSchema = Type.Object({
  apiVersion: Type.Literal('kafka.strimzi.io/v1beta2'),
  kind: Type.Literal('KafkaTopic'),
  metadata: Metadata(ClusterLabel),
  spec: Type.Object({
    topicName: Type.Optional(Type.String({ pattern: '^[a-zA-Z0-9._-]{1,249}$' })),
    partitions: Type.Integer({ minimum: 1 }),
    replicas: Type.Integer({ minimum: 1, maximum: 32767 }),
    config: Type.Optional(Config),
  }),
});

export const CnpgClusterSchema = Type.Object({
  apiVersion: Type.Literal('postgresql.cnpg.io/v1'),
  kind: Type.Literal('Cluster'),
  metadata: Metadata(),
  spec: Type.Object({
    instances: Type.Integer({ minimum: 1 }),
    imageName: Type.Optional(Type.String({ minLength: 1 })),
    primaryUpdateStrategy: Type.Optional(
      Type.Union([Type.Literal('unsupervised'), Type.Literal('supervised')]),
    ),
    bootstrap: Type.Optional(
      Type.Object({
        initdb: Type.Optional(Type.Object({ database: Name, owner: Name })),
      }),
    ),
    postgresql: Type.Optional(
      Type.Object({ parameters: Type.Optional(Type.Record(Type.String(), Type.String())) }),
    ),
    storage: Type.Object({ size: Quantity, storageClass: Type.Optional(Type.String()) }),
    resources: Type.Optional(Resources),
  }),
});

/** Schemas by `apiVersion/kind`. */
export const CRD_SCHEMAS: Record<string, TSchema> = {
  'kafka.strimzi.io/v1beta2/KafkaNodePool': KafkaNodePoolSchema,
  'kafka.strimzi.io/v1beta2/Kafka': KafkaSchema,
  'kafka.strimzi.io/v1beta2/KafkaTopic': KafkaTopicSchema,
  'postgresql.cnpg.io/v1/Cluster': CnpgClusterSchema,
};
