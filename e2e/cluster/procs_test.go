package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// service is one replica of a Telefonistka service, its own process
// (`telefonistka serve NAME`).
type service struct {
	name    string
	replica int
	port    int
	env     []string
	logPath string
	bin     string

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	stopping bool // the test ends it: no restart
	crashes  int  // exits the test did not cause; each is restarted, as Kubernetes would
}

func (s *service) id() string { return fmt.Sprintf("%s-%d", s.name, s.replica) }

// start starts the process; if it exits without the test ending it, it is
// counted as a crash and started again a second later.
func (s *service) start(t *testing.T, bin string) {
	t.Helper()
	s.bin = bin
	if err := s.launch(); err != nil {
		t.Fatalf("starting %s: %v", s.id(), err)
	}
}

func (s *service) launch() error {
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "serve", s.name)
	dieWithTest(cmd)
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return err
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.exited, s.stopping = cmd, done, false
	s.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(done)
		s.mu.Lock()
		restart := !s.stopping
		if restart {
			s.crashes++
		}
		s.mu.Unlock()
		if restart {
			time.Sleep(time.Second)
			_ = s.launch()
		}
	}()
	return nil
}

func (s *service) current() (*exec.Cmd, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd, s.exited
}

// end sends sig and waits for the process to exit (without a restart).
func (s *service) end(sig syscall.Signal, wait time.Duration) {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.stopping = true
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(wait):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	}
}

// kill ends the replica with SIGKILL: no drain, nothing acknowledged.
func (s *service) kill() { s.end(syscall.SIGKILL, time.Minute) }

// stop ends the replica with SIGTERM (a graceful drain).
func (s *service) stop() { s.end(syscall.SIGTERM, 40*time.Second) }

func (s *service) running() bool {
	cmd, exited := s.current()
	select {
	case <-exited:
		return false
	default:
		return cmd != nil
	}
}

func (s *service) crashCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.crashes
}

// waitReady waits for /readyz to answer 200.
func (s *service) waitReady(ctx context.Context) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", s.port)
	return waitFor(ctx, func() (bool, error) {
		if !s.running() {
			return false, fmt.Errorf("%s exited (log %s)", s.id(), s.logPath)
		}
		resp, err := http.Get(url)
		if err != nil {
			return false, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("%s: /readyz %d", s.id(), resp.StatusCode)
	})
}

// tail returns the end of the replica's log.
func (s *service) tail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func newService(dir, name string, replica, port int, env []string) *service {
	s := &service{name: name, replica: replica, port: port}
	s.logPath = filepath.Join(dir, s.id()+".log")
	// A data directory of its own (ingress keeps its spool there), the
	// same one after a restart.
	s.env = append(append([]string(nil), env...), fmt.Sprintf("LISTEN_ADDRESS=127.0.0.1:%d", port),
		"TELEFONISTKA_DATA_DIR="+filepath.Join(dir, s.id()+"-data"))
	return s
}

// balancer spreads webhooks over the ingress replicas and, like a load
// balancer with retries on connection errors (nginx's proxy_next_upstream
// error), sends a delivery to the next replica when one cannot be reached.
// A retried delivery is safe: ingress stores a delivery id once.
type balancer struct {
	mu      sync.Mutex
	targets []string
	next    int
	client  *http.Client
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	first := b.next
	b.next++
	b.mu.Unlock()
	var lastErr error
	for attempt := 0; attempt < 6*len(b.targets); attempt++ {
		target := b.targets[(first+attempt)%len(b.targets)]
		req, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.Path, bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := b.client.Do(req)
		if err != nil {
			lastErr = err
			time.Sleep(time.Duration(50*(attempt+1)) * time.Millisecond)
			continue
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		_ = resp.Body.Close()
		return
	}
	http.Error(w, "no ingress replica reachable: "+lastErr.Error(), http.StatusBadGateway)
}
