package ingress

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // X-Hub-Signature (SHA-1) is still sent by old GHES versions.
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
)

var (
	errNoSignature  = errors.New("missing X-Hub-Signature-256 header")
	errBadSignature = errors.New("signature does not match")
)

// verifySignature checks the delivery's HMAC: X-Hub-Signature-256, or
// X-Hub-Signature when the former is absent. The comparison takes constant
// time.
func verifySignature(secret []byte, body []byte, sig256, sig1 string) error {
	var (
		prefix string
		header string
		mk     func() hash.Hash
	)
	switch {
	case sig256 != "":
		prefix, header, mk = "sha256=", sig256, sha256.New
	case sig1 != "":
		prefix, header, mk = "sha1=", sig1, sha1.New
	default:
		return errNoSignature
	}
	hexSig, ok := strings.CutPrefix(header, prefix)
	if !ok {
		return errBadSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return errBadSignature
	}
	mac := hmac.New(mk, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errBadSignature
	}
	return nil
}

// Sign returns the X-Hub-Signature-256 value of body; tests and the load
// generator use it.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
