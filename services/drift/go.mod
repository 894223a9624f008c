module github.com/telefonistka/telefonistka/services/drift

go 1.26
