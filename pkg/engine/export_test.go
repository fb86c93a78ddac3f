package engine

// ObjectEncoding is OBJECT ENCODING of key in database db ("" when absent),
// for the differential tests.
func ObjectEncoding(e *Engine, db int, key []byte) string {
	d := e.DB(db)
	slot, _, ok := d.find(key)
	if !ok {
		return ""
	}
	en := d.entryAt(slot)
	if en.flags&fRef != 0 {
		return e.encodingOf(d.objs[en.idx])
	}
	return stringEncoding(en.val(), false)
}
