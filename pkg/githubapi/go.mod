module github.com/telefonistka/telefonistka/pkg/githubapi

go 1.26
