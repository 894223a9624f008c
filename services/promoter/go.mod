module github.com/telefonistka/telefonistka/services/promoter

go 1.26
