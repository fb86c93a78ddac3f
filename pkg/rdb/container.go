package rdb

// Container is the stored container an element was read from: a listpack,
// ziplist, intset or zipmap blob (a whole small value, or one quicklist node),
// or the listpack of a stream node. A server that loads such a container as it
// is allocates exactly Size bytes for it, which is what a memory model needs
// and what the elements alone do not tell (deleted stream entries, node
// boundaries).
type Container struct {
	// Offset is where the container's string header starts in the
	// (decompressed) input. It identifies the container: elements with the
	// same Offset come from the same one.
	Offset int64
	// Size is the container's decoded length in bytes (after LZF).
	Size int
	// StreamNode is, for a stream node, its master ID: the key of the node in
	// the stream's radix tree.
	StreamNode StreamID
}

// ElemContainer describes the container of the element NextElem returned
// last. ok is false for elements stored on their own: strings, members of
// plain (type 1-5) collections, plain quicklist nodes, fields of hashes with
// field TTLs, and the stream's metadata, groups and consumers.
func (r *Reader) ElemContainer() (c Container, ok bool) {
	if !r.inValue {
		return Container{}, false
	}
	v := &r.val
	if v.t.Kind() == KindStream {
		if r.elem.Kind != ElemStreamEntry || v.st == nil {
			return Container{}, false
		}
		return Container{Offset: v.st.lpOff, Size: v.st.lpSize, StreamNode: v.st.master}, true
	}
	if v.blob.kind == blobNone {
		return Container{}, false
	}
	return Container{Offset: v.blobOff, Size: v.blobSize}, true
}
