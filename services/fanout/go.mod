module github.com/telefonistka/telefonistka/services/fanout

go 1.26
