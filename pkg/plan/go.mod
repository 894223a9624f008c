module github.com/telefonistka/telefonistka/pkg/plan

go 1.26

require github.com/telefonistka/telefonistka/pkg/config v0.0.0

require gopkg.in/yaml.v3 v3.0.1 // indirect

replace github.com/telefonistka/telefonistka/pkg/config => ../config
