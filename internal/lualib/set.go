package lualib

import (
	"fmt"
	"slices"
)

// Set is the libraries of one server, checked as they are added: a library
// name is loaded once (unless replaced) and a function name belongs to one
// library (functionsCreateWithLibraryCtx). The zero Set is empty and ready.
type Set struct {
	Options Options
	libs    map[string]*Library
	owner   map[string]string // function name -> library name
}

// Add loads code into the set. With replace an existing library of the
// same name is replaced (FUNCTION LOAD REPLACE); without it that is an
// error, as it is for an RDB holding one library twice. On error the set is
// unchanged.
func (s *Set) Add(code []byte, replace bool) (*Library, error) {
	lib, err := Load(code, s.Options)
	if err != nil {
		return nil, err
	}
	old, exists := s.libs[lib.Name]
	if exists && !replace {
		return nil, &Error{Library: lib.Name, Msg: fmt.Sprintf("Library '%s' already exists", lib.Name)}
	}
	for _, f := range lib.Functions {
		if owner, taken := s.owner[f]; taken && !(exists && owner == old.Name) {
			return nil, &Error{Library: lib.Name, Msg: fmt.Sprintf("Function %s already exists", f)}
		}
	}
	if s.libs == nil {
		s.libs, s.owner = map[string]*Library{}, map[string]string{}
	}
	if exists {
		s.Delete(old.Name)
	}
	s.libs[lib.Name] = lib
	for _, f := range lib.Functions {
		s.owner[f] = lib.Name
	}
	return lib, nil
}

// Delete removes a library and reports whether it was there.
func (s *Set) Delete(name string) bool {
	lib, ok := s.libs[name]
	if !ok {
		return false
	}
	for _, f := range lib.Functions {
		delete(s.owner, f)
	}
	delete(s.libs, name)
	return true
}

// Flush removes every library.
func (s *Set) Flush() {
	clear(s.libs)
	clear(s.owner)
}

// Len is the number of libraries.
func (s *Set) Len() int { return len(s.libs) }

// Libraries returns the libraries sorted by name.
func (s *Set) Libraries() []*Library {
	out := make([]*Library, 0, len(s.libs))
	for _, l := range s.libs {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b *Library) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}
