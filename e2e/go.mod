module github.com/telefonistka/telefonistka/e2e

go 1.26.0

require (
	github.com/nats-io/nats.go v1.55.0
	github.com/telefonistka/telefonistka/pkg/app v0.0.0
	github.com/telefonistka/telefonistka/pkg/bus v0.0.0
	github.com/telefonistka/telefonistka/pkg/config v0.0.0
	github.com/telefonistka/telefonistka/pkg/emulator v0.0.0
	github.com/telefonistka/telefonistka/pkg/events v0.0.0
	github.com/telefonistka/telefonistka/pkg/githubapi v0.0.0
	github.com/telefonistka/telefonistka/pkg/obs v0.0.0
	github.com/telefonistka/telefonistka/pkg/plan v0.0.0
	github.com/telefonistka/telefonistka/services/argodiff v0.0.0
	github.com/telefonistka/telefonistka/services/drift v0.0.0
	github.com/telefonistka/telefonistka/services/fanout v0.0.0
	github.com/telefonistka/telefonistka/services/ingress v0.0.0
	github.com/telefonistka/telefonistka/services/planner v0.0.0
	github.com/telefonistka/telefonistka/services/promoter v0.0.0
)

require (
	dario.cat/mergo v1.0.0 // indirect
	github.com/Microsoft/go-winio v0.6.1 // indirect
	github.com/ProtonMail/go-crypto v1.1.5 // indirect
	github.com/antithesishq/antithesis-sdk-go v0.8.0-default-no-op // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/bradleyfalzon/ghinstallation/v2 v2.16.0 // indirect
	github.com/cenkalti/backoff/v4 v4.3.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/cloudflare/circl v1.3.7 // indirect
	github.com/cyphar/filepath-securejoin v0.3.6 // indirect
	github.com/emirpasic/gods v1.18.1 // indirect
	github.com/go-chi/chi/v5 v5.5.0 // indirect
	github.com/go-git/gcfg v1.5.1-0.20230307220236-3a3c6141e376 // indirect
	github.com/go-git/go-billy/v5 v5.6.2 // indirect
	github.com/go-git/go-git/v5 v5.13.2 // indirect
	github.com/go-logr/logr v1.4.2 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/golang-jwt/jwt/v4 v4.5.2 // indirect
	github.com/golang/groupcache v0.0.0-20210331224755-41bb18bfe9da // indirect
	github.com/google/go-github/v52 v52.0.0 // indirect
	github.com/google/go-github/v72 v72.0.0 // indirect
	github.com/google/go-querystring v1.1.0 // indirect
	github.com/google/go-tpm v0.9.8 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.24.0 // indirect
	github.com/jbenet/go-context v0.0.0-20150711004518-d14ea06fba99 // indirect
	github.com/kelseyhightower/envconfig v1.4.0 // indirect
	github.com/kevinburke/ssh_config v1.2.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/minio/highwayhash v1.0.4 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/nats-io/jwt/v2 v2.8.2 // indirect
	github.com/nats-io/nats-server/v2 v2.15.2 // indirect
	github.com/nats-io/nkeys v0.4.16 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	github.com/pjbgf/sha1cd v0.3.2 // indirect
	github.com/prometheus/client_golang v1.20.5 // indirect
	github.com/prometheus/client_model v0.6.1 // indirect
	github.com/prometheus/common v0.55.0 // indirect
	github.com/prometheus/procfs v0.15.1 // indirect
	github.com/sergi/go-diff v1.3.2-0.20230802210424-5b0b94c5c0d3 // indirect
	github.com/shurcooL/githubv4 v0.0.0-20260209031235-2402fdf4a9ed // indirect
	github.com/shurcooL/graphql v0.0.0-20240915155400-7ee5256398cf // indirect
	github.com/skeema/knownhosts v1.3.0 // indirect
	github.com/xanzy/ssh-agent v0.3.3 // indirect
	go.opentelemetry.io/auto/sdk v1.1.0 // indirect
	go.opentelemetry.io/otel v1.33.0
	go.opentelemetry.io/otel/exporters/otlp/otlptrace v1.33.0 // indirect
	go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc v1.33.0 // indirect
	go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp v1.33.0 // indirect
	go.opentelemetry.io/otel/metric v1.33.0 // indirect
	go.opentelemetry.io/otel/sdk v1.33.0
	go.opentelemetry.io/otel/trace v1.33.0
	go.opentelemetry.io/proto/otlp v1.4.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/mod v0.41.0 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/oauth2 v0.24.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	golang.org/x/time v0.16.0 // indirect
	golang.org/x/tools v0.51.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20241209162323-e6fa225c2576 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20241209162323-e6fa225c2576 // indirect
	google.golang.org/grpc v1.68.1 // indirect
	google.golang.org/protobuf v1.35.2 // indirect
	gopkg.in/warnings.v0 v0.1.2 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

replace github.com/telefonistka/telefonistka/pkg/events => ../pkg/events

replace github.com/telefonistka/telefonistka/pkg/bus => ../pkg/bus

replace github.com/telefonistka/telefonistka/pkg/obs => ../pkg/obs

replace github.com/telefonistka/telefonistka/pkg/githubapi => ../pkg/githubapi

replace github.com/telefonistka/telefonistka/pkg/app => ../pkg/app

replace github.com/telefonistka/telefonistka/pkg/config => ../pkg/config

replace github.com/telefonistka/telefonistka/pkg/plan => ../pkg/plan

replace github.com/telefonistka/telefonistka/pkg/emulator => ../pkg/emulator

replace github.com/telefonistka/telefonistka/services/ingress => ../services/ingress

replace github.com/telefonistka/telefonistka/services/planner => ../services/planner

replace github.com/telefonistka/telefonistka/services/promoter => ../services/promoter

replace github.com/telefonistka/telefonistka/services/drift => ../services/drift

replace github.com/telefonistka/telefonistka/services/argodiff => ../services/argodiff

replace github.com/telefonistka/telefonistka/services/fanout => ../services/fanout

replace github.com/telefonistka/telefonistka/services/bumper => ../services/bumper
