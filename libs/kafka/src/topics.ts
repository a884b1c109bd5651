import type { Admin, Kafka } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  /** Topic configs, e.g. { 'min.insync.replicas': '2', 'retention.ms': '604800000' }. */
  configs?: Record<string, string>;
}

/**
 * Creates the topics that are missing and adds partitions where a topic has fewer than
 * configured (partitions never shrink). Safe to run from every process at start.
 */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        // kafkajs's own wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a multi-broker
        // cluster answers until metadata has spread: waitForLeaders below polls instead.
        waitForLeaders: false,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor,
          configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    await waitForLeaders(
      admin,
      missing.map((s) => s.topic),
    );
    const present = specs.filter((s) => existing.has(s.topic));
    if (present.length > 0) {
      const { topics } = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
      const grow = present.flatMap((s) => {
        const count = topics.find((t) => t.name === s.topic)?.partitions.length ?? 0;
        return count < s.partitions ? [{ topic: s.topic, count: s.partitions }] : [];
      });
      if (grow.length > 0) {
        try {
          await admin.createPartitions({ topicPartitions: grow });
        } catch (err) {
          // Another process (or metadata that had not caught up) grew them first: the
          // broker refuses a count the topic already has. Fine if every one has enough now.
          if ((err as { type?: string }).type !== 'INVALID_PARTITIONS') throw err;
          const after = await admin.fetchTopicMetadata({ topics: grow.map((g) => g.topic) });
          const short = grow.filter(
            (g) => (after.topics.find((t) => t.name === g.topic)?.partitions.length ?? 0) < g.count,
          );
          if (short.length > 0) throw err;
        }
      }
    }
  } finally {
    await admin.disconnect();
  }
}

async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  if (topics.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      const ready = meta.topics.every(
        (t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
      );
      if (ready && meta.topics.length === topics.length) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`no leaders for ${topics.join(', ')} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The same partitions and replication for every topic of a list. */
export function topicSpecs(
  topics: readonly string[],
  config: { KAFKA_TOPIC_PARTITIONS: number; KAFKA_REPLICATION_FACTOR: number },
): TopicSpec[] {
  return topics.map((topic) => ({
    topic,
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    replicationFactor: config.KAFKA_REPLICATION_FACTOR,
  }));
}

/**
 * A readiness check for /ready: the cluster answers. One admin client, connected on the
 * first check and kept, instead of a new connection per probe; dropped after a failure
 * so the next probe reconnects.
 */
export function kafkaReadiness(kafka: Kafka): { check(): Promise<void>; close(): Promise<void> } {
  let admin: Admin | undefined;
  return {
    check: async () => {
      try {
        if (!admin) {
          admin = kafka.admin();
          await admin.connect();
        }
        await admin.describeCluster();
      } catch (err) {
        const broken = admin;
        admin = undefined;
        await broken?.disconnect().catch(() => undefined);
        throw err;
      }
    },
    close: async () => {
      await admin?.disconnect();
      admin = undefined;
    },
  };
}
