package devsecrets

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nats-io/jwt/v2"
)

func TestWriteOnceAndKeep(t *testing.T) {
	dir := t.TempDir()
	written, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{AppKeyFile, NATSCredFile, NATSAuthFile}; !reflect.DeepEqual(written, want) {
		t.Fatalf("wrote %q, want %q", written, want)
	}
	before := map[string][]byte{}
	for _, f := range written {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
		before[f], _ = os.ReadFile(filepath.Join(dir, f))
	}

	// The GitHub App key is a PKCS#1 RSA key, as GitHub issues them.
	block, _ := pem.Decode(before[AppKeyFile])
	if block == nil || block.Type != "RSA PRIVATE KEY" {
		t.Fatalf("%s is not a PEM RSA key", AppKeyFile)
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
		t.Fatal(err)
	}

	// The user's JWT is signed by the account the server configuration
	// preloads, and that account has JetStream.
	userJWT, err := jwt.ParseDecoratedJWT(before[NATSCredFile])
	if err != nil {
		t.Fatal(err)
	}
	uc, err := jwt.DecodeUserClaims(userJWT)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(before[NATSAuthFile]), uc.Issuer+":") {
		t.Errorf("%s does not preload the user's account %s", NATSAuthFile, uc.Issuer)
	}

	// A second run keeps everything.
	written, err = Write(dir)
	if err != nil || len(written) != 0 {
		t.Fatalf("second run wrote %q (%v)", written, err)
	}
	for f, data := range before {
		if now, _ := os.ReadFile(filepath.Join(dir, f)); string(now) != string(data) {
			t.Errorf("%s changed on the second run", f)
		}
	}

	// A lost credentials file regenerates both NATS files, so they match.
	if err := os.Remove(filepath.Join(dir, NATSCredFile)); err != nil {
		t.Fatal(err)
	}
	written, err = Write(dir)
	if err != nil || !reflect.DeepEqual(written, []string{NATSCredFile, NATSAuthFile}) {
		t.Fatalf("after losing the creds, wrote %q (%v)", written, err)
	}
}
