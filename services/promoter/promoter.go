// Package promoter is the promoter service. It does not consume anything yet; the
// issue that fills it in replaces this file.
package promoter

import (
	"context"

	"github.com/telefonistka/telefonistka/pkg/app"
)

// Builder registers the service with pkg/app.
var Builder = app.Builder{Name: "promoter", New: New}

// Service is the promoter service.
type Service struct{}

// New builds the service.
func New(context.Context, *app.Env) (app.Service, error) { return &Service{}, nil }

// Run waits for shutdown.
func (s *Service) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}
