module github.com/telefonistka/telefonistka/services/bumper

go 1.26
