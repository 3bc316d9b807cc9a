package chat

import (
	"log/slog"
	"sync"
	"time"

	"github.com/chatd/chatd/engine"
	"github.com/chatd/chatd/engine/store"
	"github.com/chatd/chatd/protocol"
)

// Chat is the seed's chat as an engine.Handler, with rooms, history, acknowledged
// delivery and resume added.
type Chat struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	w   *engine.Worker // set by OnWorkerStart (startCommits, under earlyMu)

	earlyMu sync.Mutex
	early   []func() // commits that came before the worker started (postCommit)

	users     map[uint64]*user // by userId
	names     map[string]uint64
	nameHint  map[string]int // per base name's folded key (names.go): every "name (N)" below it is taken
	userIDs   userIDs
	waiting   []*waitingLogin          // logins waiting for a userId, oldest first
	waitingBy map[uint64]*waitingLogin // the same, by connection id

	defaultRoom *room
	rooms       map[string]*room     // public rooms with members, the default one included
	dir         directory            // the rooms but the default one, busiest first
	streams     map[string]*stream   // seq counters of every room and inbox ever written
	dialogs     dialogIndex          // who has which dialog, newest first (dialogs.go)
	dirty       []*room              // rooms with compact presence changes this tick
	ids         map[uint64]*identity // resumable identities, online or within the grace
	departed    []departure          // identities gone offline, oldest first, for the sweep
	clientMsgs  dedupe
	key         []byte // HMAC key of resume tokens

	ackUsers []*user // users with ack=1, for the resend sweep

	statuses    map[uint64]*userStatus // users who set a status (status.go)
	statusDirty []uint64               // users whose Status goes out at the next tick
	statusSeen  map[uint64]struct{}    // scratch: who got the Status being sent
	buzzes      map[uint64]*buzzLog    // senders' recent buzzes (buzz.go)
	typing      map[typingKey]int64    // the last Typing sent per user and room (typing.go)
	lookups     map[uint64]int         // users' message lookups in flight (lookup.go)
	uploads     recentUploads          // files a line may carry (files.go)
	lineID      string                 // the clientMsgId of the chat line being handled: sendError puts it on the Error
	held        map[uint64][]heldLine  // lines waiting behind their sender's reply, by connection (reply.go)

	memReactions map[reactKey][]store.ReactionCount // without a store only (react.go)

	// History: nil without a store, then messages commit at once and nothing is kept.
	store  store.Store
	writer Journal
	link   PresenceLink // the writer, on a cluster node (remote.go); nil on a single node
	sig    SignalLink   // the writer, on a cluster node (signals.go); nil on a single node
	// remoteStatuses are other nodes' users' statuses, for member pages (signals.go).
	remoteStatuses map[uint64][]byte
	// usersAsks are the Users pages each connection waits for from other nodes (remotepages.go).
	usersAsks map[uint64]int
	// remoteRooms are the rooms with members on other nodes only (remoterooms.go).
	remoteRooms remoteRooms
	readq       *readQueue  // store reads, run by a fixed pool of readers
	replays     replayCache // the latest replay page of each room, for the logins after it (replay.go)
	closeOne    sync.Once

	roster  []byte // the default room's members for the seed's Authorized (defaultRoster)
	rosterN int    // members encoded in roster; -1: stale

	payload []byte // scratch for encoding a message
	fields  []byte // scratch for an offline sender's encoded fields (storedFrame)
	frame   []byte // a committed message's frame, reused while no recipient keeps it

	acct accountState // accounts: reserved names, token logins (account.go)

	// connDialogs are the dialog memberships of each connection that has any, by
	// connection id (dialogs.go): kept off the user, which every idle connection pays for.
	connDialogs map[uint64]*memberships

	cl clusterIDs // names, userIds and identities shared by a cluster (clusterids.go)

	counters counters
	meters   meters // for metrics (metrics.go)
}

type counters struct {
	logins, public, private, undelivered, errors, rateLimited, lost  uint64
	resumed, resumeFailed, duplicates, resent, commits, commitErrors uint64
	idWaits, idRefused                                               uint64 // logins that waited for a userId reservation, and that gave up
	storeRefused, readsBusy                                          uint64
	replaysCached                                                    uint64 // replay pages sent from the replay cache, not read
	takenOver                                                        uint64 // identities another cluster node resumed
}

// New makes a Chat with cfg (start from DefaultConfig) and no history: messages get
// their seqs and are delivered at once, and nothing survives a restart unless
// OpenHistory gives it a store before the Worker starts.
func New(cfg Config, log *slog.Logger) (*Chat, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	ch := &Chat{
		cfg:        cfg,
		log:        log,
		now:        time.Now,
		users:      make(map[uint64]*user),
		names:      make(map[string]uint64),
		nameHint:   make(map[string]int),
		userIDs:    noReservation(),
		waitingBy:  make(map[uint64]*waitingLogin),
		rooms:      make(map[string]*room),
		streams:    make(map[string]*stream),
		ids:        make(map[uint64]*identity),
		clientMsgs: newDedupe(),
		statuses:   make(map[uint64]*userStatus),
		buzzes:     make(map[uint64]*buzzLog),
		typing:     make(map[typingKey]int64),
		key:        store.NewKey(),
	}
	ch.defaultRoom = &room{id: protocol.DefaultRoomID, isDefault: true}
	ch.rooms[ch.defaultRoom.id] = ch.defaultRoom
	return ch, nil
}

// OnWorkerStart starts the heartbeat, as ChatWorker.php does, and chatd's timers.
func (ch *Chat) OnWorkerStart(w *engine.Worker) {
	ch.startCommits(w)
	ch.startPresence(w.Post)
	ch.pruneDialogs()
	w.AddTimer(ch.cfg.PingInterval, func() { ch.heartbeatFrom(0) })
	w.AddTimer(ch.cfg.PresenceInterval, ch.flushPresence)
	w.AddTimer(max(ch.cfg.AckTimeout/2, 5*time.Millisecond), ch.resendUnacked)
	w.AddTimer(min(time.Second, ch.cfg.ResumeGrace/4), ch.sweep)
	w.AddTimer(ch.cfg.PresenceInterval, ch.flushStatuses)
	w.AddTimer(ch.cfg.BuzzInterval, ch.sweepBuzzes)
	w.AddTimer(typingInterval, ch.sweepTyping)
}

// OnWorkerStop commits what is queued and closes the history before the worker closes
// the connections. It is the one place the owner waits on the disk: at stop nothing is
// served any more, and a process that exits right after Worker.Stop must not lose
// messages it had accepted.
func (ch *Chat) OnWorkerStop(*engine.Worker) { ch.Close() }

// Close commits what is queued and closes the history store. OnWorkerStop calls it;
// safe to call more than once and from any goroutine except the owner.
func (ch *Chat) Close() {
	ch.closeOne.Do(func() {
		if ch.readq != nil {
			ch.readq.stop()
		}
		ch.stopCluster()
		if ch.writer != nil {
			ch.writer.Close()
		}
		if ch.store != nil {
			if err := ch.store.Close(); err != nil {
				ch.log.Error("closing history", "err", err)
			}
		}
	})
}

// OnConnect does nothing: a user exists once the handshake's query has been read.
func (ch *Chat) OnConnect(*engine.Conn) {}

// OnClose removes the user and tells its rooms. A user dropped by the heartbeat is
// already gone (ConnectionLost was sent), so it never gets Disconnected too.
func (ch *Chat) OnClose(c *engine.Conn, reason engine.CloseReason) {
	u := userOf(c)
	if u == nil {
		ch.forgetWaiting(c)
		return
	}
	ch.remove(u, false)
	ch.log.Debug("user disconnected", "userId", u.info.ID, "reason", reason.String())
}

// remove logs u out: out of every room (presence to each), its name freed unless its
// identity stays resumable for the grace.
func (ch *Chat) remove(u *user, lost bool) {
	if userOf(u.conn) != u {
		return
	}
	if u.account && ch.removeDevice(u) {
		return // the account is still online on another device
	}
	delete(ch.acct.loginToken, u.conn.ID())
	u.conn.SetValue(nil)
	delete(ch.users, u.info.ID)
	ch.statusGone(u.info.ID) // before it goes: the other nodes' snapshots lose it too
	delete(ch.statuses, u.info.ID)
	delete(ch.lookups, u.info.ID)
	delete(ch.held, u.conn.ID()) // lines behind a reply of a user who left go with it
	if u.reads != nil {
		u.reads.cancel() // its queued reads are dropped, a running one interrupted
	}
	for _, ms := range u.rooms {
		if r := ch.rooms[ms.room]; r != nil && ms.public {
			ch.leave(u, r, lost)
		}
	}
	u.rooms = nil
	delete(ch.connDialogs, u.conn.ID())
	if u.resumable {
		ch.goOffline(u)
	} else {
		ch.freeName(u.info.Name, u.info.ID)
		ch.dropDialogsOf(u.info.ID) // an anonymous user's dialogs end with it
	}
}

// heartbeat is the seed's 5-second timer: a user with PingMaxMissed unanswered Pings
// is dropped and its rooms get ConnectionLost; every other user gets a Ping.
func (ch *Chat) heartbeat() {
	for part := range uint64(pingParts) {
		ch.heartbeatPart(part)
	}
}

// pingParts is how many owner batches a heartbeat is spread over (heartbeatFrom).
// 15,000 Pings written in one batch brought 15,000 Pongs back at once, while the owner
// was still writing: its queue then grew room for all of them (64 bytes an event, two
// queues of 1 MB each kept, or that much garbage at every sweep).
const pingParts = 8

// heartbeatFrom pings the part-th of the connections, and the next parts in the
// owner's next batches: each part's Pings are written at the end of its batch, and
// its Pongs come back while the next part is sent.
func (ch *Chat) heartbeatFrom(part uint64) {
	ch.heartbeatPart(part)
	if part+1 < pingParts {
		ch.w.Post(func() { ch.heartbeatFrom(part + 1) })
	}
}

// heartbeatPart is the heartbeat for the connections whose id is part modulo
// pingParts.
func (ch *Chat) heartbeatPart(part uint64) {
	ping := engine.AppendFrame(nil, engine.OpText, protocol.PingJSON) // shared, never modified
	var lost []*user
	ping1 := func(u *user) {
		if u.conn.ID()%pingParts != part {
			return
		}
		if int(u.missed) >= ch.cfg.PingMaxMissed {
			lost = append(lost, u)
			return
		}
		u.conn.SendFrame(ping)
		u.missed++
	}
	for _, u := range ch.defaultRoom.members {
		ping1(u)
		for _, d := range ch.otherDevices(u) {
			ping1(d)
		}
	}
	for _, u := range lost {
		ch.remove(u, true)
		u.conn.Close(ClosePingTimeout)
		ch.counters.lost++
		ch.log.Info("connection lost", "userId", u.info.ID, "userName", u.info.Name, "missedPings", u.missed)
	}
}

// Stats reports the chat's figures for /status.
func (ch *Chat) Stats() map[string]any {
	return map[string]any{
		"users":                 len(ch.defaultRoom.members),
		"rooms":                 len(ch.rooms),
		"logins":                ch.counters.logins,
		"publicMessages":        ch.counters.public,
		"privateMessages":       ch.counters.private,
		"undelivered":           ch.counters.undelivered,
		"errorsSent":            ch.counters.errors,
		"rateLimited":           ch.counters.rateLimited,
		"connectionsLost":       ch.counters.lost,
		"resumed":               ch.counters.resumed,
		"resumeFailed":          ch.counters.resumeFailed,
		"duplicates":            ch.counters.duplicates,
		"resent":                ch.counters.resent,
		"commits":               ch.counters.commits,
		"commitErrors":          ch.counters.commitErrors,
		"loginsWaitedForUserId": ch.counters.idWaits,
		"loginsRefusedNoUserId": ch.counters.idRefused,
		"storeRefused":          ch.counters.storeRefused,
		"readsBusy":             ch.counters.readsBusy,
		"replayPagesCached":     ch.counters.replaysCached,
		"takenOverByOtherNode":  ch.counters.takenOver,
	}
}
