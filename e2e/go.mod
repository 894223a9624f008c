module github.com/telefonistka/telefonistka/e2e

go 1.26

require (
	github.com/telefonistka/telefonistka/pkg/app v0.0.0
	github.com/telefonistka/telefonistka/pkg/bus v0.0.0
	github.com/telefonistka/telefonistka/pkg/config v0.0.0
	github.com/telefonistka/telefonistka/pkg/emulator v0.0.0
	github.com/telefonistka/telefonistka/pkg/events v0.0.0
	github.com/telefonistka/telefonistka/pkg/githubapi v0.0.0
	github.com/telefonistka/telefonistka/pkg/obs v0.0.0
	github.com/telefonistka/telefonistka/pkg/plan v0.0.0
	github.com/telefonistka/telefonistka/services/argodiff v0.0.0
	github.com/telefonistka/telefonistka/services/bumper v0.0.0
	github.com/telefonistka/telefonistka/services/drift v0.0.0
	github.com/telefonistka/telefonistka/services/fanout v0.0.0
	github.com/telefonistka/telefonistka/services/ingress v0.0.0
	github.com/telefonistka/telefonistka/services/planner v0.0.0
	github.com/telefonistka/telefonistka/services/promoter v0.0.0
)

replace github.com/telefonistka/telefonistka/pkg/events => ../pkg/events

replace github.com/telefonistka/telefonistka/pkg/bus => ../pkg/bus

replace github.com/telefonistka/telefonistka/pkg/obs => ../pkg/obs

replace github.com/telefonistka/telefonistka/pkg/githubapi => ../pkg/githubapi

replace github.com/telefonistka/telefonistka/pkg/app => ../pkg/app

replace github.com/telefonistka/telefonistka/pkg/config => ../pkg/config

replace github.com/telefonistka/telefonistka/pkg/plan => ../pkg/plan

replace github.com/telefonistka/telefonistka/pkg/emulator => ../pkg/emulator

replace github.com/telefonistka/telefonistka/services/ingress => ../services/ingress

replace github.com/telefonistka/telefonistka/services/planner => ../services/planner

replace github.com/telefonistka/telefonistka/services/promoter => ../services/promoter

replace github.com/telefonistka/telefonistka/services/drift => ../services/drift

replace github.com/telefonistka/telefonistka/services/argodiff => ../services/argodiff

replace github.com/telefonistka/telefonistka/services/fanout => ../services/fanout

replace github.com/telefonistka/telefonistka/services/bumper => ../services/bumper
