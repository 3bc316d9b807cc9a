package engine

// Echo is the raw engine's benchmark and conformance worker: it sends every message
// back as it came, TEXT as TEXT and BINARY as BINARY.
type Echo struct{ NopHandler }

// OnMessage echoes m.
func (Echo) OnMessage(c *Conn, m Message) {
	op := byte(OpText)
	if m.Binary {
		op = OpBinary
	}
	c.SendFrame(AppendFrame(nil, op, m.Data))
}
