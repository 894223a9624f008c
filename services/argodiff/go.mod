module github.com/telefonistka/telefonistka/services/argodiff

go 1.26
