module github.com/telefonistka/telefonistka/services/fanout

go 1.26.0

require github.com/telefonistka/telefonistka/pkg/config v0.0.0

require gopkg.in/yaml.v3 v3.0.1 // indirect

replace github.com/telefonistka/telefonistka/pkg/events => ../../pkg/events

replace github.com/telefonistka/telefonistka/pkg/bus => ../../pkg/bus

replace github.com/telefonistka/telefonistka/pkg/obs => ../../pkg/obs

replace github.com/telefonistka/telefonistka/pkg/githubapi => ../../pkg/githubapi

replace github.com/telefonistka/telefonistka/pkg/app => ../../pkg/app

replace github.com/telefonistka/telefonistka/pkg/config => ../../pkg/config
