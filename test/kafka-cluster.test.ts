// The 3-broker mode of the local stack: three KRaft nodes on one host replicate a
// topic (RF 3, min.insync.replicas 2) and keep serving acks=all writes with one node down.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics, parseBrokers } from '@mailroom/kafka';
import { stackEnv, testLogger, unique, waitFor } from './support/env.js';

const script = `${stackEnv('MAILROOM_ROOT')}/deploy/local/kafka-cluster.sh`;
const brokers = parseBrokers(stackEnv('KAFKA_CLUSTER_BROKERS'));

beforeAll(() => {
  execFileSync('bash', [script, 'up'], { stdio: 'inherit' });
}, 180_000);
afterAll(() => {
  execFileSync('bash', [script, 'down'], { stdio: 'inherit' });
}, 120_000);

describe('3-broker Kafka', () => {
  it('replicates to all three and accepts acks=all writes with one broker killed', async () => {
    const kafka = createKafka({ brokers, clientId: 'cluster-test', logger: testLogger() });
    const topic = unique('test.cluster');
    await ensureTopics(kafka, [
      { topic, partitions: 1, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } },
    ]);
    const admin = kafka.admin();
    await admin.connect();
    // Metadata reaches every broker a moment after the leaders are elected.
    const partition = await waitFor(
      async () => {
        const p = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions[0];
        return p && p.isr.length === 3 ? p : undefined;
      },
      { what: 'three in-sync replicas' },
    );
    expect(partition.replicas).toHaveLength(3);
    expect(partition.isr).toHaveLength(3);
    await admin.disconnect();

    // Connected first: a client that bootstraps after the kill may pick the dead broker.
    const producer = await createProducer(kafka);
    // Kill a follower (not the leader: leader failover is the fault suite's job).
    const follower = partition.replicas.find((r) => r !== partition.leader)!;
    const dataDir = stackEnv('MAILROOM_DATA_DIR');
    const pid = Number(readFileSync(`${dataDir}/run/kafka-cluster-${follower}.pid`, 'utf8'));
    process.kill(pid, 'SIGKILL');

    await producer.send(topic, [{ key: 'k', value: 'written with one broker down' }]);
    await producer.disconnect();
    const offsets = await (async () => {
      const a = createKafka({
        brokers: brokers.filter((_, i) => i !== follower - 1), // node n listens on the n-th port
        clientId: 'cluster-test',
        logger: testLogger(),
      }).admin();
      await a.connect();
      try {
        return await a.fetchTopicOffsets(topic);
      } finally {
        await a.disconnect();
      }
    })();
    expect(offsets[0]?.high).toBe('1');
  }, 120_000);
});
