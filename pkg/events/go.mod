module github.com/telefonistka/telefonistka/pkg/events

go 1.26
