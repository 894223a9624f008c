package ingress

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
)

func hmacSHA1(key, body []byte) string {
	m := hmac.New(sha1.New, key)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
