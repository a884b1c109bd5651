// Consumer groups of a test run that start at the newest records of the shared topics.
import { ALL_TOPICS } from '@mailroom/events';
import {
  commitGroupOffsets,
  ensureTopics,
  parseBrokers,
  topicSpecs,
  type createKafka,
} from '@mailroom/kafka';
import { stackEnv } from './env.js';

/**
 * Creates the project's topics if need be (as the apps would: 6 partitions, the given
 * replication) and commits each group's offsets at their newest records, before any
 * member joins. The apps then start as in production (FROM_BEGINNING=true): a partition
 * always has a committed offset, so a rebalance never resets one to "latest" and skips
 * what was produced while the group had no member on it.
 */
export async function commitNewestOffsets(
  kafka: ReturnType<typeof createKafka>,
  groupIds: readonly string[],
  replicationFactor = 1,
): Promise<void> {
  await ensureTopics(
    kafka,
    topicSpecs(ALL_TOPICS, {
      KAFKA_TOPIC_PARTITIONS: 6,
      KAFKA_REPLICATION_FACTOR: replicationFactor,
    }),
  );
  const admin = kafka.admin();
  await admin.connect();
  try {
    const newest = await Promise.all(
      ALL_TOPICS.map(async (topic) => ({
        topic,
        partitions: (await newestOf(admin, topic)).map((p) => ({
          partition: p.partition,
          offset: p.high,
        })),
      })),
    );
    const brokers = parseBrokers(stackEnv('KAFKA_BROKERS'));
    await commitGroupOffsets(brokers, groupIds, newest);
  } finally {
    await admin.disconnect();
  }
}

/**
 * The newest offsets of a topic. Right after the topic was made (a fresh cluster), the
 * admin's metadata may not list its leaders yet and kafkajs fails on an empty answer:
 * asked again until it answers, for up to 30 s.
 */
async function newestOf(
  admin: ReturnType<ReturnType<typeof createKafka>['admin']>,
  topic: string,
): Promise<{ partition: number; high: string }[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
