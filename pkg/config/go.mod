module github.com/telefonistka/telefonistka/pkg/config

go 1.26
