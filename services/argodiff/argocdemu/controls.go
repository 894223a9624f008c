package argocdemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
)

// Latency is injected before calls: Default for every method, Methods per
// method ("ApplicationService/GetManifests").
type Latency struct {
	Default time.Duration
	Methods map[string]time.Duration
}

func (l Latency) of(method string) time.Duration {
	if d, ok := l.Methods[method]; ok {
		return d
	}
	return l.Default
}

// FaultHang makes a call hang until the caller gives up.
const FaultHang = "hang"

// Fault makes the next Count calls of Method ("" for any) fail with Code:
// a gRPC code name ("Unavailable", "Internal", "PermissionDenied", ...) or
// FaultHang.
type Fault struct {
	Method string `json:"method"`
	Code   string `json:"code"`
	Count  int    `json:"count"`
}

var codeNames = func() map[string]codes.Code {
	m := map[string]codes.Code{}
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		m[c.String()] = c
	}
	return m
}()

func (f *Fault) code() codes.Code { return codeNames[f.Code] }

// SetLatency replaces the injected latency.
func (s *Server) SetLatency(l Latency) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = l
}

// AddFault queues a fault.
func (s *Server) AddFault(f Fault) error {
	if _, ok := codeNames[f.Code]; !ok && f.Code != FaultHang {
		return fmt.Errorf("unknown fault code %q (a gRPC code name or %q)", f.Code, FaultHang)
	}
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
	return nil
}

// takeFault consumes one fault matching method; the caller holds s.mu.
func (s *Server) takeFault(method string) *Fault {
	for i, f := range s.faults {
		if f.Method != "" && f.Method != method {
			continue
		}
		f.Count--
		if f.Count <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return f
	}
	return nil
}

// controls serves the JSON test controls:
//
//	GET  /_argocd/counters         calls per method, hard refreshes per app
//	POST /_argocd/counters/reset
//	PUT  /_argocd/latency          {"default_ms": 50, "methods": {"ApplicationService/Get": 1000}}
//	POST /_argocd/faults           {"method": "ApplicationService/GetManifests", "code": "Unavailable", "count": 2}
//	GET  /_argocd/applications     the applications (targetRevision after patches, ...)
func (s *Server) controls() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_argocd/counters", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, s.Counters()) })
	mux.HandleFunc("POST /_argocd/counters/reset", func(w http.ResponseWriter, _ *http.Request) {
		s.ResetCounters()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("PUT /_argocd/latency", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			DefaultMS int            `json:"default_ms"`
			Methods   map[string]int `json:"methods"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		l := Latency{Default: time.Duration(req.DefaultMS) * time.Millisecond, Methods: map[string]time.Duration{}}
		for m, ms := range req.Methods {
			l.Methods[m] = time.Duration(ms) * time.Millisecond
		}
		s.SetLatency(l)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_argocd/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.AddFault(f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_argocd/applications", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, s.Apps()) })
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
