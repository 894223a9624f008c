module github.com/telefonistka/telefonistka/pkg/obs

go 1.26
