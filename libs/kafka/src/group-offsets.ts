import { Admin } from '@platformatic/kafka';

export interface GroupOffsets {
  topic: string;
  partitions: { partition: number; offset: string }[];
}

/**
 * Commits the same offsets for each of `groupIds` while the group has no member, the way
 * Kafka's own admin client does (an offset commit outside any generation). kafkajs's
 * admin.setOffsets/resetOffsets commit nothing for a group that has never run.
 */
export async function commitGroupOffsets(
  brokers: string[],
  groupIds: readonly string[],
  offsets: readonly GroupOffsets[],
): Promise<void> {
  const topics = offsets.map((t) => ({
    name: t.topic,
    partitionOffsets: t.partitions.map((p) => ({
      partition: p.partition,
      offset: BigInt(p.offset),
    })),
  }));
  const admin = new Admin({ clientId: 'mailroom-offsets', bootstrapBrokers: brokers });
  try {
    for (const groupId of groupIds) await admin.alterConsumerGroupOffsets({ groupId, topics });
  } finally {
    await admin.close();
  }
}
