# syntax=docker/dockerfile:1
#
# One image carrying one multi-call binary, /usr/local/bin/telefonistka: the
# default command `server` runs every service in one process (embedded NATS,
# JetStream under /data), `serve <name>` runs one service against NATS_URL,
# and the CLIs (event, bump-*, plan, validate, github-emulator) are there too.
#
#   docker build -t telefonistka --build-arg VERSION=$(git describe --tags --always) .
#   docker run -e GITHUB_WEBHOOK_SECRET=... -e GITHUB_OAUTH_TOKEN=... -p 8080:8080 telefonistka
#
# The binary is static (CGO_ENABLED=0, `make image-binary`), so it runs on the
# distroless static base; deploy/image_test.go builds it the same way and
# checks the ELF file has no interpreter and no dynamic section.

ARG GO_IMAGE=golang:1.26

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH make image-binary OUT=/out/usr/local/bin/telefonistka VERSION=$VERSION
# Directories the non-root user owns in the final image: /data (the embedded
# JetStream store, a declared volume) and /srv/templates (comment template
# overrides; empty means the built-in templates).
RUN mkdir -p /out/data /out/srv/templates

# The secrets generator of docker-compose.yml (a throwaway GitHub App key and
# NATS credentials for the local demo); never part of the main image.
FROM build AS devsecrets-build
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -o /out/devsecrets ./deploy/cmd/devsecrets && \
    mkdir -p /out/secrets

FROM gcr.io/distroless/static-debian12:nonroot AS devsecrets
COPY --from=devsecrets-build /out/devsecrets /usr/local/bin/devsecrets
COPY --from=devsecrets-build --chown=65532:65532 /out/secrets /secrets
USER 65532:65532
VOLUME ["/secrets"]
ENTRYPOINT ["/usr/local/bin/devsecrets", "/secrets"]

# The image. The last stage is what `docker build .` produces.
FROM gcr.io/distroless/static-debian12:nonroot AS telefonistka
COPY --from=build /out/usr/local/bin/telefonistka /usr/local/bin/telefonistka
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/srv/templates /srv/templates
# A numeric user, so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
ENV TELEFONISTKA_DATA_DIR=/data \
    TEMPLATES_PATH=/srv/templates
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/telefonistka"]
CMD ["server"]
