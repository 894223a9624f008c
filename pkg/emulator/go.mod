module github.com/telefonistka/telefonistka/pkg/emulator

go 1.26
