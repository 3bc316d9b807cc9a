package cluster

import "os"

func init() {
	if os.Getenv("CLUSTER_LOG") != "" {
		logOut = os.Stderr
	}
}
