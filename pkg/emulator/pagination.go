package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// pageParams reads per_page (default 30, at most 100) and page (default 1).
func pageParams(r *http.Request) (perPage, page int) {
	perPage, page = 30, 1
	if n, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && n > 0 {
		perPage = min(n, 100)
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 0 {
		page = n
	}
	return perPage, page
}

// paginate returns the requested page of items and sets GitHub's Link header.
func paginate[T any](e *Emulator, w http.ResponseWriter, r *http.Request, items []T) []T {
	perPage, page := pageParams(r)
	last := max(1, (len(items)+perPage-1)/perPage)
	setLinks(e, w, r, page, last, perPage)
	start := min((page-1)*perPage, len(items))
	end := min(start+perPage, len(items))
	return items[start:end]
}

func setLinks(e *Emulator, w http.ResponseWriter, r *http.Request, page, last, perPage int) {
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, e.rootURL, r.URL.Path, q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(min(page-1, last), "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
}
