package nbiofix

import "github.com/lesismal/nbio/mempool"

// HeapAllocator is an nbio write-cache allocator that keeps nothing: buffers come from
// the Go heap and go back to it when nbio frees them.
//
// nbio v1.6.12 caches a connection's unsent bytes in buffers from
// mempool.DefaultMemPool, which keeps up to 1 GiB of freed buffers for reuse, and
// nbhttp does not pass its own allocator down to the engine. 500 non-reading clients
// cut off at a 4 MiB cap left 2.36 GB resident 30 s after the cut. With this one the
// memory is garbage once the connection is gone, and the engine's release returns it.
type HeapAllocator struct{}

var _ mempool.Allocator = HeapAllocator{}

// Malloc implements mempool.Allocator.
func (HeapAllocator) Malloc(size int) *[]byte {
	b := make([]byte, size)
	return &b
}

// Realloc implements mempool.Allocator.
func (HeapAllocator) Realloc(buf *[]byte, size int) *[]byte {
	if size <= cap(*buf) {
		*buf = (*buf)[:size]
		return buf
	}
	b := make([]byte, size)
	copy(b, *buf)
	return &b
}

// Append implements mempool.Allocator.
func (HeapAllocator) Append(buf *[]byte, more ...byte) *[]byte {
	*buf = append(*buf, more...)
	return buf
}

// AppendString implements mempool.Allocator.
func (HeapAllocator) AppendString(buf *[]byte, more string) *[]byte {
	*buf = append(*buf, more...)
	return buf
}

// Free implements mempool.Allocator: the garbage collector frees.
func (HeapAllocator) Free(*[]byte) {}
