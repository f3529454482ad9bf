package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

func hmacBase64(key []byte, s string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
