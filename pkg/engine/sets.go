package engine

import (
	"slices"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Set commands (t_set.c): SADD, SREM, SMOVE, SPOP, SINTERSTORE, SUNIONSTORE,
// SDIFFSTORE.
//
// SPOP picks members at random on a server and is logged as SREM of the
// chosen members (or DEL when the whole set goes), so a replay never
// executes a real random SPOP. When asked to, the engine pops the smallest
// members (bytewise): deterministic, but not what any given server chose.

func newSet() *object { return &object{kind: rdb.KindSet, set: map[string]struct{}{}} }

func registerSets() {
	register("sadd", -3, cmdSAdd)
	register("srem", -3, cmdSRem)
	register("smove", 4, cmdSMove)
	register("spop", -2, cmdSPop)
	register("sinterstore", -3, func(e *Engine, a [][]byte) error { return e.setOpStore(a, setInter) })
	register("sunionstore", -3, func(e *Engine, a [][]byte) error { return e.setOpStore(a, setUnion) })
	register("sdiffstore", -3, func(e *Engine, a [][]byte) error { return e.setOpStore(a, setDiff) })
}

func cmdSAdd(e *Engine, a [][]byte) error {
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindSet)
	if err != nil {
		return err
	}
	if o == nil {
		o = newSet()
		db.add(a[1], o)
	}
	for _, m := range a[2:] {
		o.set[string(m)] = struct{}{}
	}
	return nil
}

func cmdSRem(e *Engine, a [][]byte) error {
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindSet)
	if o == nil {
		return err
	}
	for _, m := range a[2:] {
		delete(o.set, string(m))
		if len(o.set) == 0 {
			db.remove(a[1])
			break
		}
	}
	return nil
}

func cmdSMove(e *Engine, a [][]byte) error {
	db := e.db()
	src := e.view(db, a[1])
	dst := e.view(db, a[2])
	if src == nil {
		return nil
	}
	if src.kind != rdb.KindSet || dst != nil && dst.kind != rdb.KindSet {
		return ErrWrongType
	}
	if src == dst {
		return nil
	}
	m := string(a[3])
	if _, ok := src.set[m]; !ok {
		return nil
	}
	delete(src.set, m)
	if len(src.set) == 0 {
		db.remove(a[1])
	}
	if dst == nil {
		dst = newSet()
		db.add(a[2], dst)
	}
	dst.set[m] = struct{}{}
	return nil
}

func cmdSPop(e *Engine, a [][]byte) error {
	if len(a) > 3 {
		return ErrSyntax
	}
	count := int64(1)
	if len(a) == 3 {
		var err error
		if count, err = argPositive(a[2]); err != nil {
			return err
		}
	}
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindSet)
	if o == nil || count == 0 {
		return err
	}
	if count >= int64(len(o.set)) {
		db.remove(a[1])
		return nil
	}
	members := setMembers(o.set)
	for _, m := range members[:count] {
		delete(o.set, string(m))
	}
	return nil
}

// setMembers returns the members sorted bytewise.
func setMembers(s map[string]struct{}) [][]byte {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = []byte(k)
	}
	return out
}

const (
	setInter = iota
	setUnion
	setDiff
)

// setOpStore is sinterGenericCommand / sunionDiffGenericCommand with a
// destination: every source is type-checked first; an empty result deletes
// the destination, anything else replaces it (without TTL).
func (e *Engine) setOpStore(a [][]byte, op int) error {
	db := e.db()
	sets := make([]map[string]struct{}, 0, len(a)-2)
	missing := false
	for _, k := range a[2:] {
		o, err := e.lookupKind(db, k, rdb.KindSet)
		if err != nil {
			return err
		}
		if o == nil {
			missing = true
			sets = append(sets, nil)
			continue
		}
		sets = append(sets, o.set)
	}
	res := map[string]struct{}{}
	switch op {
	case setInter:
		if !missing {
			for m := range sets[0] {
				in := true
				for _, s := range sets[1:] {
					if _, ok := s[m]; !ok {
						in = false
						break
					}
				}
				if in {
					res[m] = struct{}{}
				}
			}
		}
	case setUnion:
		for _, s := range sets {
			for m := range s {
				res[m] = struct{}{}
			}
		}
	case setDiff:
		for m := range sets[0] {
			res[m] = struct{}{}
		}
		for _, s := range sets[1:] {
			for m := range s {
				delete(res, m)
			}
		}
	}
	if len(res) == 0 {
		e.del(db, a[1])
		return nil
	}
	e.setKey(db, a[1], &object{kind: rdb.KindSet, set: res}, false)
	return nil
}
