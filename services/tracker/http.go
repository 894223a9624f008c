package tracker

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/telefonistka/telefonistka/pkg/events"
	"github.com/telefonistka/telefonistka/services/tracker/internal/render"
)

// BasePath is where the tracker's pages and API are served.
const BasePath = "/tracker"

// DefaultRecent is how many changes the page and the API list by default.
const DefaultRecent = 20

// Routes serves the pages and the JSON API:
//
//	GET /tracker/                                          repositories (HTML)
//	GET /tracker/{owner}/{repo}                            recent changes and the environment matrix (HTML)
//	GET /tracker/{owner}/{repo}/changes/{pr}               one change's journey (HTML)
//	GET /tracker/api/v1/repos                              ["owner/repo", ...]
//	GET /tracker/api/v1/repos/{owner}/{repo}/changes       recent changes (?limit=N, default 20)
//	GET /tracker/api/v1/repos/{owner}/{repo}/changes/{pr}  one change's journey
//	GET /tracker/api/v1/repos/{owner}/{repo}/environments  the environment view (?path=TARGET)
func (s *Service) Routes(r chi.Router) {
	r.Get(BasePath, http.RedirectHandler(BasePath+"/", http.StatusMovedPermanently).ServeHTTP)
	r.Route(BasePath, func(r chi.Router) {
		r.Get("/", s.indexPage)
		r.Get("/api/v1/repos", s.reposAPI)
		r.Get("/api/v1/repos/{owner}/{repo}/changes", s.changesAPI)
		r.Get("/api/v1/repos/{owner}/{repo}/changes/{pr}", s.changeAPI)
		r.Get("/api/v1/repos/{owner}/{repo}/environments", s.environmentsAPI)
		r.Get("/{owner}/{repo}", s.repoPage)
		r.Get("/{owner}/{repo}/changes/{pr}", s.changePage)
	})
}

var (
	ownerPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,39}$`)
	namePattern  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// repoParam reads {owner}/{repo}; a name GitHub would not allow is a 400.
func repoParam(w http.ResponseWriter, r *http.Request, html bool) (events.Repo, bool) {
	repo := events.Repo{Owner: chi.URLParam(r, "owner"), Name: chi.URLParam(r, "repo")}
	if !ownerPattern.MatchString(repo.Owner) || !namePattern.MatchString(repo.Name) {
		fail(w, html, http.StatusBadRequest, "not a GitHub repository name: "+repo.String())
		return repo, false
	}
	return repo, true
}

func prParam(w http.ResponseWriter, r *http.Request, html bool) (int, bool) {
	n, err := strconv.Atoi(chi.URLParam(r, "pr"))
	if err != nil || n <= 0 {
		fail(w, html, http.StatusBadRequest, "not a pull request number: "+chi.URLParam(r, "pr"))
		return 0, false
	}
	return n, true
}

func (s *Service) reposAPI(w http.ResponseWriter, _ *http.Request) {
	repos := s.model.Repos()
	out := make([]string, len(repos))
	for i, r := range repos {
		out[i] = r.String()
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Service) changesAPI(w http.ResponseWriter, r *http.Request) {
	repo, ok := repoParam(w, r, false)
	if !ok {
		return
	}
	limit := DefaultRecent
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			fail(w, false, http.StatusBadRequest, "limit must be a number from 1 to 1000")
			return
		}
		limit = n
	}
	writeJSON(w, http.StatusOK, s.model.Recent(repo, limit))
}

func (s *Service) changeAPI(w http.ResponseWriter, r *http.Request) {
	repo, ok := repoParam(w, r, false)
	if !ok {
		return
	}
	n, ok := prParam(w, r, false)
	if !ok {
		return
	}
	j, found := s.model.Journey(repo, n)
	if !found {
		fail(w, false, http.StatusNotFound, noJourney(repo, n))
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (s *Service) environmentsAPI(w http.ResponseWriter, r *http.Request) {
	repo, ok := repoParam(w, r, false)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.model.Environments(repo, r.URL.Query().Get("path")))
}

func (s *Service) indexPage(w http.ResponseWriter, _ *http.Request) {
	repos := s.model.Repos()
	names := make([]string, len(repos))
	for i, r := range repos {
		names[i] = r.String()
	}
	page(w, http.StatusOK, func(w http.ResponseWriter) error { return render.Index(w, BasePath, names) })
}

func (s *Service) repoPage(w http.ResponseWriter, r *http.Request) {
	repo, ok := repoParam(w, r, true)
	if !ok {
		return
	}
	recent, env := s.model.Recent(repo, DefaultRecent), s.model.Environments(repo, "")
	page(w, http.StatusOK, func(w http.ResponseWriter) error { return render.Repo(w, BasePath, repo.String(), recent, env) })
}

func (s *Service) changePage(w http.ResponseWriter, r *http.Request) {
	repo, ok := repoParam(w, r, true)
	if !ok {
		return
	}
	n, ok := prParam(w, r, true)
	if !ok {
		return
	}
	j, found := s.model.Journey(repo, n)
	if !found {
		fail(w, true, http.StatusNotFound, noJourney(repo, n))
		return
	}
	page(w, http.StatusOK, func(w http.ResponseWriter) error { return render.Change(w, BasePath, j) })
}

func noJourney(repo events.Repo, n int) string {
	return "the tracker knows no promotion of " + repo.String() + "#" + strconv.Itoa(n) +
		" (a change's journey starts at its original PR once it is merged and planned)"
}

func page(w http.ResponseWriter, status int, write func(http.ResponseWriter) error) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = write(w)
}

func fail(w http.ResponseWriter, html bool, status int, message string) {
	if html {
		page(w, status, func(w http.ResponseWriter) error { return render.NotFound(w, BasePath, "", message) })
		return
	}
	writeJSON(w, status, map[string]string{"error": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
