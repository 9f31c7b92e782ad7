package trace

// The heap of holders, ordered by their next event key.

func (e *engine) push(h *holder) {
	h.hi = len(e.heap)
	e.heap = append(e.heap, h)
	e.up(h.hi)
}

func (e *engine) pop() {
	n := len(e.heap) - 1
	e.swap(0, n)
	e.heap = e.heap[:n]
	if n > 0 {
		e.down(0)
	}
}

func (e *engine) swap(i, j int) {
	e.heap[i], e.heap[j] = e.heap[j], e.heap[i]
	e.heap[i].hi, e.heap[j].hi = i, j
}

func (e *engine) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !e.heap[i].key.less(e.heap[p].key) {
			return
		}
		e.swap(i, p)
		i = p
	}
}

func (e *engine) down(i int) {
	n := len(e.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && e.heap[r].key.less(e.heap[l].key) {
			m = r
		}
		if !e.heap[m].key.less(e.heap[i].key) {
			return
		}
		e.swap(i, m)
		i = m
	}
}
