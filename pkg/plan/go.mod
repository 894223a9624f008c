module github.com/telefonistka/telefonistka/pkg/plan

go 1.26
