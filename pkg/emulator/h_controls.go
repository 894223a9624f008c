package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/telefonistka/telefonistka/pkg/emulator/internal/webhook"
)

// controlRoutes serves the test controls under /_emulator/ (see README.md).
func (e *Emulator) controlRoutes() http.Handler {
	m := chi.NewRouter()
	m.Route("/_emulator", func(m chi.Router) {
		m.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		})
		m.Get("/deliveries", e.ctlDeliveries)
		m.Post("/deliveries/{id}/redeliver", e.ctlRedeliver)
		m.Post("/deliveries/wait", e.ctlWait)
		m.Put("/webhook", e.ctlWebhook)
		m.Get("/counters", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, e.Counters()) })
		m.Delete("/counters", e.ctlResetCounters)
		m.Post("/counters/reset", e.ctlResetCounters)
		m.Get("/latency", e.ctlGetLatency)
		m.Put("/latency", e.ctlSetLatency)
		m.Delete("/latency", func(w http.ResponseWriter, r *http.Request) { e.ClearLatency(); w.WriteHeader(http.StatusNoContent) })
		m.Get("/faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, e.Faults()) })
		m.Post("/faults", e.ctlAddFault)
		m.Delete("/faults", func(w http.ResponseWriter, r *http.Request) { e.ClearFaults(); w.WriteHeader(http.StatusNoContent) })
		m.Post("/fail-next-merge", func(w http.ResponseWriter, r *http.Request) { e.FailNextMerge(); w.WriteHeader(http.StatusNoContent) })
		m.Post("/tokens", e.ctlAddToken)
		m.Post("/repos", e.ctlCreateRepo)
		m.Put("/repos/{owner}/{repo}/collaborators/{login}", e.ctlSetPermission)
		m.Get("/writes", e.ctlWrites)
		m.Put("/secondary-limit", e.ctlSecondaryLimit)
		m.Post("/repos/{owner}/{repo}/pulls", e.ctlOpenChange)
		m.Put("/repos/{owner}/{repo}/pulls/{number}/merge", e.ctlMergePull)
	})
	m.NotFound(func(w http.ResponseWriter, r *http.Request) { writeError(w, errNotFound()) })
	return m
}

func badRequest(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
}

func (e *Emulator) ctlDeliveries(w http.ResponseWriter, r *http.Request) {
	event, action := r.URL.Query().Get("event"), r.URL.Query().Get("action")
	out := []webhook.Delivery{}
	for _, d := range e.Deliveries() {
		if (event == "" || d.Event == event) && (action == "" || d.Action == action) {
			out = append(out, d)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) ctlRedeliver(w http.ResponseWriter, r *http.Request) {
	id, err := e.Redeliver(chi.URLParam(r, "id"))
	if errors.Is(err, webhook.ErrUnknownDelivery) {
		writeError(w, errNotFound())
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]int64{"id": id})
}

func (e *Emulator) ctlWait(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if err := e.WaitWebhooks(ctx); err != nil {
		writeJSON(w, http.StatusGatewayTimeout, map[string]string{"message": "deliveries still queued"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) ctlWebhook(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL    string `json:"url"`
		Secret string `json:"secret"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		badRequest(w, err)
		return
	}
	e.SetWebhook(in.URL, in.Secret)
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) ctlResetCounters(w http.ResponseWriter, r *http.Request) {
	e.ResetCounters()
	w.WriteHeader(http.StatusNoContent)
}

type latencyJSON struct {
	DefaultMS int            `json:"default_ms"`
	Routes    map[string]int `json:"routes"`
}

func (e *Emulator) ctlGetLatency(w http.ResponseWriter, r *http.Request) {
	e.ctl.mu.Lock()
	out := latencyJSON{DefaultMS: int(e.ctl.latency / time.Millisecond), Routes: map[string]int{}}
	for k, d := range e.ctl.routeLatency {
		out.Routes[k] = int(d / time.Millisecond)
	}
	e.ctl.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) ctlSetLatency(w http.ResponseWriter, r *http.Request) {
	var in latencyJSON
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		badRequest(w, err)
		return
	}
	e.SetLatency(time.Duration(in.DefaultMS) * time.Millisecond)
	for k, ms := range in.Routes {
		e.SetRouteLatency(k, time.Duration(ms)*time.Millisecond)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) ctlAddFault(w http.ResponseWriter, r *http.Request) {
	var raw json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		badRequest(w, err)
		return
	}
	var faults []Fault
	if json.Unmarshal(raw, &faults) != nil {
		var f Fault
		if err := json.Unmarshal(raw, &f); err != nil {
			badRequest(w, err)
			return
		}
		faults = []Fault{f}
	}
	for _, f := range faults {
		if err := e.InjectFault(f); err != nil {
			badRequest(w, err)
			return
		}
	}
	writeJSON(w, http.StatusCreated, e.Faults())
}

func (e *Emulator) ctlAddToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token string `json:"token"`
		Login string `json:"login"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Token == "" || in.Login == "" {
		badRequest(w, errors.New("want {\"token\": ..., \"login\": ...}"))
		return
	}
	e.AddToken(in.Token, in.Login)
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) ctlCreateRepo(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Owner string            `json:"owner"`
		Name  string            `json:"name"`
		Files map[string]string `json:"files"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		badRequest(w, err)
		return
	}
	if err := e.CreateRepo(in.Owner, in.Name, in.Files); err != nil {
		badRequest(w, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (e *Emulator) ctlSetPermission(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Role string `json:"role"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Role == "" {
		badRequest(w, errors.New("want {\"role\": \"none|read|triage|write|maintain|admin\"}"))
		return
	}
	err := e.SetPermission(chi.URLParam(r, "owner")+"/"+chi.URLParam(r, "repo"), chi.URLParam(r, "login"), in.Role)
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, errNotFound())
	case err != nil:
		badRequest(w, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
