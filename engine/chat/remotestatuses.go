package chat

// Statuses in presence snapshots: a node keeps its users' statuses in the link's copy
// of its membership, so the snapshot another node asks for (a late node, a gap)
// carries them, and that node shows them in its member pages before their next
// Status signal. The live changes still come as signals (signals.go).

// publishStatus hands the link a local user's status fields (nil: none any more).
func (ch *Chat) publishStatus(userID uint64, fields []byte) {
	if ch.link != nil {
		ch.link.PublishStatus(userID, fields)
	}
}

// statusGone tells the link that a local user who set a status logged out.
func (ch *Chat) statusGone(userID uint64) {
	if _, had := ch.statuses[userID]; had {
		ch.publishStatus(userID, nil)
	}
}

// snapshotStatuses keeps the statuses of another node's snapshot for the member pages:
// the default ones (nil fields) keep no entry.
func (ch *Chat) snapshotStatuses(statuses []RemoteStatus) {
	for _, s := range statuses {
		if s.Fields == nil {
			delete(ch.remoteStatuses, s.UserID)
			continue
		}
		if ch.remoteStatuses == nil {
			ch.remoteStatuses = make(map[uint64][]byte)
		}
		ch.remoteStatuses[s.UserID] = s.Fields
	}
}
