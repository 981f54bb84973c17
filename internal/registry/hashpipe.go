package registry

import (
	"hash"
	"io"
	"sync"
)

// hashPipe reads a request body ahead in 1 MiB chunks and hashes each chunk
// on its own goroutine while the blob store writes the chunk, so reading
// the socket, hashing and writing the file overlap. It holds at most
// pipeChunks buffers, whatever the blob's size.
type hashPipe struct {
	out      chan *pipeChunk
	free     chan []byte
	stop     chan struct{}
	stopOnce sync.Once
	hashDone chan struct{}
	cur      *pipeChunk
	off      int
}

type pipeChunk struct {
	buf    []byte
	n      int
	err    error
	hashed chan struct{}
}

const (
	pipeChunkSize = 1 << 20
	pipeChunks    = 4
)

var pipeBufs = sync.Pool{New: func() any { b := make([]byte, pipeChunkSize); return &b }}

func newHashPipe(src io.Reader, h hash.Hash) *hashPipe {
	p := &hashPipe{
		out:      make(chan *pipeChunk, pipeChunks),
		free:     make(chan []byte, pipeChunks),
		stop:     make(chan struct{}),
		hashDone: make(chan struct{}),
	}
	for i := 0; i < pipeChunks; i++ {
		p.free <- (*pipeBufs.Get().(*[]byte))[:pipeChunkSize]
	}
	hashQ := make(chan *pipeChunk, pipeChunks)
	go func() {
		defer close(p.hashDone)
		for c := range hashQ {
			h.Write(c.buf[:c.n])
			close(c.hashed)
		}
	}()
	go func() {
		defer close(hashQ)
		defer close(p.out)
		for {
			var buf []byte
			select {
			case buf = <-p.free:
			case <-p.stop:
				return
			}
			n, err := io.ReadFull(src, buf)
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			c := &pipeChunk{buf: buf, n: n, err: err, hashed: make(chan struct{})}
			hashQ <- c // never blocks: there are only pipeChunks buffers
			select {
			case p.out <- c:
			case <-p.stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return p
}

func (p *hashPipe) Read(b []byte) (int, error) {
	for {
		if p.cur == nil {
			c, ok := <-p.out
			if !ok {
				return 0, io.EOF
			}
			p.cur, p.off = c, 0
		}
		if p.off < p.cur.n {
			n := copy(b, p.cur.buf[p.off:p.cur.n])
			p.off += n
			return n, nil
		}
		err := p.cur.err
		<-p.cur.hashed
		p.free <- p.cur.buf
		p.cur = nil
		if err != nil {
			return 0, err
		}
	}
}

// finish waits until every chunk read is hashed; call it after Read
// returned io.EOF. It gives the buffers back.
func (p *hashPipe) finish() {
	<-p.hashDone
	p.release()
}

// abandon stops reading ahead; the hash is then meaningless. The reading
// goroutine ends when the body's next read returns, at the latest when
// the server closes the request.
func (p *hashPipe) abandon() {
	p.stopOnce.Do(func() { close(p.stop) })
}

func (p *hashPipe) release() {
	for {
		select {
		case b := <-p.free:
			pipeBufs.Put(&b)
		default:
			return
		}
	}
}
