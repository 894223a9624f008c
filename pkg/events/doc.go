// Package events defines the wire contract of Telefonistka: the envelope every
// event travels in, the event types with their explicit wire names, the NATS
// subjects they are published on, and the JetStream streams and consumers that
// carry them.
//
// It is deliberately small so that other internal systems can import it to
// subscribe to Telefonistka's events. Nothing here talks to NATS; the
// definitions are plain data that pkg/bus (or any other client) applies.
package events
