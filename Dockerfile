# One image carrying bin/telefonistka; the default command runs every service
# in one process (`server`), and `serve <name>` runs one service.
FROM golang:1.26 AS build
WORKDIR /src
COPY . .
RUN make build

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/telefonistka /usr/local/bin/telefonistka
ENV TELEFONISTKA_DATA_DIR=/data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/telefonistka"]
CMD ["server"]
