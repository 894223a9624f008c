module github.com/telefonistka/telefonistka/e2e

go 1.26
