// Package cluster is the groundwork of chatd as a cluster on NATS JetStream (issue 13,
// docs/CLUSTER.md). So far it holds the primitive the design rests on: appending a
// line to a room's subject of one stream with optimistic concurrency, so that per-room
// seqs are gap-free and in one order whichever node appends. Nothing in chatd uses it
// yet: there is no --nats flag, and a chatd is the single-node server it always was.
package cluster
