//go:build !unix

package ingress

import (
	"os"
	"path/filepath"
)

// lockDir opens dir's LOCK file; without flock, nothing stops a second
// process from using the same spool.
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
}
