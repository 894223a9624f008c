package events

import "sort"

// registry maps a wire type name to a constructor of its payload.
var registry = map[string]func() Payload{}

// register adds a payload type. Each family file registers its types from an
// init function, so adding a family never touches another family's file.
func register(mk func() Payload) {
	name := mk().EventType()
	if _, dup := registry[name]; dup {
		panic("events: type registered twice: " + name)
	}
	registry[name] = mk
}

// Types returns the wire names of every registered event type, sorted.
func Types() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewPayload returns an empty payload of the named type.
func NewPayload(typ string) (Payload, bool) {
	mk, ok := registry[typ]
	if !ok {
		return nil, false
	}
	return mk(), true
}
