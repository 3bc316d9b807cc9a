package chat

// directory keeps the rooms other than the default one sorted by member count,
// busiest first, so that a Rooms request costs its page and not a sort of every room
// (with 10,001 rooms, 20 clients asking Rooms once pushed the owner's queue to 483
// events). A join or a leave moves its room by one swap: rooms are grouped in blocks
// of equal count, and a room whose count grows by one trades places with the first
// room of its block, then belongs to the block above. Rooms with equal counts are in
// no particular order.
//
// Rooms whose last member left but whose presence tick has not run yet (count 0) stay
// in the tail until they are dropped.
type directory struct {
	order []*room
	// above[c] is how many rooms have more than c members, so the block of count c
	// (c ≥ 1) is order[above[c]:above[c-1]]. Past the end of the slice it is 0.
	above []int
}

func (d *directory) aboveOf(c int) int {
	if c < len(d.above) {
		return d.above[c]
	}
	return 0
}

// add puts a new, empty room at the tail (the block of count 0).
func (d *directory) add(r *room) {
	r.rank = len(d.order)
	d.order = append(d.order, r)
}

// grew moves r, which has just gained its len(r.members)-th member, into its block.
func (d *directory) grew(r *room) {
	c := len(r.members) - 1 // the count it had
	for len(d.above) <= c+1 {
		d.above = append(d.above, 0)
	}
	d.swap(r.rank, d.above[c])
	d.above[c]++
}

// shrank moves r, which has just lost a member, into its block.
func (d *directory) shrank(r *room) {
	c := len(r.members) // the count it has now; it had c+1
	d.swap(r.rank, d.above[c]-1)
	d.above[c]--
}

// drop removes r, which has no members: it is in the tail, where order does not matter.
func (d *directory) drop(r *room) {
	if r.rank < 0 {
		return // dropped already
	}
	last := len(d.order) - 1
	d.swap(r.rank, last)
	d.order[last] = nil
	d.order = d.order[:last]
	r.rank = -1
}

func (d *directory) swap(i, j int) {
	d.order[i], d.order[j] = d.order[j], d.order[i]
	d.order[i].rank, d.order[j].rank = i, j
}

// listed is how many rooms have members.
func (d *directory) listed() int { return d.aboveOf(0) }
