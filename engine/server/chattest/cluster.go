package chattest

import (
	"github.com/chatd/chatd/engine/cluster"
	"github.com/chatd/chatd/engine/server"
)

// InCluster makes the test server a node named node of the cluster on the NATS
// server at natsURL (docs/CLUSTER.md), as `chatd start --nats natsURL --node-name
// node` would: start a natstest.Server first, and one Start per node.
func InCluster(natsURL, node string) Option {
	return func(c *server.Config) {
		c.Cluster = &cluster.Config{NATS: cluster.NATSConfig{URLs: []string{natsURL}}, NodeName: node}
	}
}
