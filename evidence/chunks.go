package evidence

// chunkShift sets the size of a chunk of a [chunkList]: 1<<chunkShift
// elements.
const chunkShift = 12

// chunkList is an append-only list kept in fixed-size chunks, so that
// growing it never copies or clears what it holds already, however long
// it gets. The zero value is an empty list.
type chunkList[T any] struct {
	chunks [][]T
	n      int64
}

// len returns the number of elements.
func (l *chunkList[T]) len() int64 { return l.n }

// at returns element i, which must be in the list.
func (l *chunkList[T]) at(i int64) T {
	return l.chunks[i>>chunkShift][i&(1<<chunkShift-1)]
}

// push appends v.
func (l *chunkList[T]) push(v T) {
	if l.n&(1<<chunkShift-1) == 0 {
		l.chunks = append(l.chunks, make([]T, 0, 1<<chunkShift))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, v)
	l.n++
}

// byteSlab hands out copies of byte strings carved from large shared
// buffers, so that keeping many small byte strings costs few allocations.
type byteSlab struct {
	buf []byte
}

// slabSize is the size of each buffer of a byteSlab.
const slabSize = 16 << 10

// clone returns a copy of b whose capacity is its length, so that
// appending to it never writes over another copy.
func (s *byteSlab) clone(b []byte) []byte {
	if len(b) > slabSize/4 {
		return append(make([]byte, 0, len(b)), b...)
	}
	if cap(s.buf)-len(s.buf) < len(b) {
		s.buf = make([]byte, 0, slabSize)
	}
	start := len(s.buf)
	s.buf = append(s.buf, b...)
	return s.buf[start:len(s.buf):len(s.buf)]
}
