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
// Every message the runtime holds (running, or waiting behind a message of
// the same ordering key, events.OrderingKey) is reported in progress to
// JetStream, so waiting never causes a redelivery or spends the message's
// delivery budget; a redelivery of a held message is not handled twice. A
// message that runs long holds up only its own key. Every NATS call has its
// own deadline (DefaultCallTimeout, Conn.CallTimeout), so a NATS node that
// stops answering delays a handler by seconds. A consumer deleted while the
// service runs is re-created after its last acknowledged sequence; if that
// fails, Health reports it and Consume returns an error. On shutdown the
// runtime stops fetching, gives waiting messages back and lets running
// handlers finish.
package bus
