module github.com/telefonistka/telefonistka/services/ingress

go 1.26
