package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
)

const docsURL = "https://docs.github.com/rest"

// apiError is an error answer in GitHub's JSON shape.
type apiError struct {
	Status  int
	Message string
	Errors  []any  // validation errors: objects like {resource, field, code, message} or strings
	DocURL  string // defaults to the REST docs root
	Headers map[string]string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

func errNotFound() *apiError { return &apiError{Status: http.StatusNotFound, Message: "Not Found"} }

func errStatus(status int, msg string) *apiError { return &apiError{Status: status, Message: msg} }

// errValidation is GitHub's 422 "Validation Failed" with one error object.
func errValidation(resource, field, code, msg string) *apiError {
	ve := map[string]string{"resource": resource, "code": code}
	if field != "" {
		ve["field"] = field
	}
	if msg != "" {
		ve["message"] = msg
	}
	return &apiError{Status: http.StatusUnprocessableEntity, Message: "Validation Failed", Errors: []any{ve}}
}

func errUnprocessable(msg string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Message: msg}
}

func writeError(w http.ResponseWriter, e *apiError) {
	for k, v := range e.Headers {
		w.Header().Set(k, v)
	}
	doc := e.DocURL
	if doc == "" {
		doc = docsURL
	}
	body := map[string]any{"message": e.Message, "documentation_url": doc}
	if len(e.Errors) > 0 {
		body["errors"] = e.Errors
	}
	writeJSON(w, e.Status, body)
}

// secondaryDocURL is the documentation link of a secondary rate limit answer; go-github v52
// recognises the limit by its "#secondary-rate-limits" suffix.
const secondaryDocURL = "https://docs.github.com/rest/overview/resources-in-the-rest-api#secondary-rate-limits"

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeRaw(w, status, data)
}

func writeRaw(w http.ResponseWriter, status int, data []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// decodeBody reads a JSON request body into v, answering 400 like GitHub when it is not JSON.
func decodeBody(r *http.Request, v any) *apiError {
	if r.Body == nil {
		return errStatus(http.StatusBadRequest, "Problems parsing JSON")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 100<<20))
	if err := dec.Decode(v); err != nil {
		return errStatus(http.StatusBadRequest, "Problems parsing JSON")
	}
	return nil
}
