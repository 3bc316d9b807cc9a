package chat

// An account may be online on several devices (connections) at once and is one user:
// one Connected when its first device arrives, one Disconnected when its last leaves,
// every message to every device, Sent to the device that sent the line. The first
// device is the user everyone sees (ch.users, its rooms' members); the others follow
// it into every room and are reached through otherDevices.

// otherDevices is the further connections of u's account, oldest first: nil for every
// anonymous user and for an account on one device. Every fan-out sends to u and then
// to these.
func (ch *Chat) otherDevices(u *user) []*user {
	if !u.account || len(ch.acct.devices) == 0 {
		return nil
	}
	return ch.acct.devices[u.info.ID]
}
