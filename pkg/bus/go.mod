module github.com/telefonistka/telefonistka/pkg/bus

go 1.26
