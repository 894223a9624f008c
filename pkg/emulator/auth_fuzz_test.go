package emulator

import (
	"encoding/base64"
	"net/http/httptest"
	"testing"
)

// FuzzAuthenticate feeds arbitrary Authorization headers (tokens, basic credentials and
// JWT-looking strings) to the authenticator: it must answer with an identity or an error,
// never panic, and never accept an unknown credential when tokens are configured.
func FuzzAuthenticate(f *testing.F) {
	jwtHead := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	f.Add("token good")
	f.Add("Bearer " + jwtHead + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"1","iat":1,"exp":99999999999}`)) + ".sig")
	f.Add("Bearer " + jwtHead + ".e30.")
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("user:good")))
	f.Add("Basic !!!")
	f.Add("")
	e, err := New(Options{Tokens: map[string]string{"good": "bot"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = e.Close() })
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/user", nil)
		r.Header.Set("Authorization", header)
		id, aerr := e.auth.authenticate(r)
		if (id == nil) == (aerr == nil) {
			t.Fatalf("identity %v and error %v for %q", id, aerr, header)
		}
		if id != nil && id.user != nil && id.user.Login != "bot" {
			t.Fatalf("header %q authenticated as %q", header, id.user.Login)
		}
	})
}
