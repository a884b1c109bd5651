export { createKafka, parseBrokers, type KafkaClientOptions } from './client.js';
export { commitGroupOffsets, type GroupOffsets } from './group-offsets.js';
export { ensureTopics, kafkaReadiness, topicSpecs, type TopicSpec } from './topics.js';
export {
  createProducer,
  type MailroomProducer,
  type Message,
  type ProducerOptions,
  type TopicMessages,
} from './producer.js';
export {
  createFastProducer,
  DeliveryTimeoutError,
  type FastProducerOptions,
} from './fast-producer.js';
export { murmur2, keyHash } from './murmur2.js';
export {
  createBatchingProducer,
  shardByKey,
  ProducerClosedError,
  type BatchingProducer,
  type BatchingProducerOptions,
} from './batching-producer.js';
export {
  runConsumer,
  dlqTopicOf,
  type ConsumedRecord,
  type ConsumerOptions,
  type RecordHandler,
  type BatchHandler,
  type RunningConsumer,
} from './consumer.js';
export {
  ProcessingError,
  permanentError,
  transientError,
  classifyError,
  errorCode,
  type ErrorVerdict,
} from './errors.js';
export {
  startConsumerApp,
  type ConsumerApp,
  type ConsumerAppConfig,
  type ConsumerAppOptions,
} from './consumer-app.js';
