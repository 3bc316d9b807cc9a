package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// clusterTarget is chatd as a cluster (docs/CLUSTER.md): an embedded nats-server
// with JetStream (bench/natsd) and clusterNodes chatd nodes with --nats on this box,
// the clients spread over the nodes, the figures the processes' summed. Not among the
// default targets: ask for it with --targets chatd,chatd-cluster.
const (
	clusterTarget = "chatd-cluster"
	clusterNodes  = 3
)

// startCluster starts the nats-server and the nodes, each logging next to logPath.
func startCluster(bin binaries, tmp, logPath string) (*server, error) {
	c := &server{name: clusterTarget}
	natsAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	_, port, _ := strings.Cut(natsAddr, ":")
	if _, err := strconv.Atoi(port); err != nil {
		return nil, fmt.Errorf("nats port of %s: %w", natsAddr, err)
	}
	ns, err := startProcess("natsd", natsAddr, exec.Command(bin.natsd, "--port", port), strings.TrimSuffix(logPath, ".log")+"-nats.log")
	if err != nil {
		return nil, err
	}
	c.parts = append(c.parts, ns)
	for i := range clusterNodes {
		node, err := startNode(bin, tmp, natsAddr, i, strings.TrimSuffix(logPath, ".log")+fmt.Sprintf("-node%d.log", i))
		if err != nil {
			c.stop()
			return nil, fmt.Errorf("cluster node %d: %w", i, err)
		}
		c.parts = append(c.parts, node)
	}
	return c, nil
}

// startNode starts cluster node i on a free port.
func startNode(bin binaries, tmp, natsAddr string, i int, logPath string) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd, err := chatdCommand(bin, tmp, addr, "--nats", "nats://"+natsAddr, "--node-name", fmt.Sprint("node-", i))
	if err != nil {
		return nil, err
	}
	return startProcess(fmt.Sprint("node-", i), addr, cmd, logPath)
}
