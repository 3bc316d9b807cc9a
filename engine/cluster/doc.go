// Package cluster is chatd as a cluster on NATS JetStream (issue 13, docs/CLUSTER.md),
// built in steps. It holds the room-append primitive (roomlog.go: a line appended to
// its room's subject of one stream with optimistic concurrency, so that per-room seqs
// are gap-free and in one order whichever node appends) and the cluster journal
// (journal.go: a chat.Journal whose lines go through the stream and come back, from
// every node, into the node's own store). Nothing in chatd uses it yet: there is no
// --nats flag, and a chatd is the single-node server it always was.
package cluster
