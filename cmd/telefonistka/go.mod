module github.com/telefonistka/telefonistka/cmd/telefonistka

go 1.26
