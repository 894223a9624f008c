// Package bus is the one place where Telefonistka touches NATS JetStream: it
// starts the embedded server, connects, creates the streams and KV buckets
// declared in pkg/events, publishes envelopes, and runs durable pull
// consumers.
//
// A consuming service gives Consume a Handler. The handler never sees a raw
// JetStream message; its return value decides what happens:
//
//   - nil: the message is acknowledged;
//   - an error for which Permanent(err) is true: the message is terminated and
//     a consumer.failed event is published on the dead-letter subject;
//   - an error carrying a delay (RetryAfter): redelivered after that delay;
//   - any other error: redelivered with exponential backoff by delivery count,
//     and dead-lettered once the consumer's MaxDeliver is reached.
//
// While a handler runs, the runtime tells JetStream the message is in
// progress, so long work is not redelivered to another replica.
package bus
