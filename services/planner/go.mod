module github.com/telefonistka/telefonistka/services/planner

go 1.26
