package a

import "os"

type Config struct {
	Port  int    `envconfig:"PORT" default:"8080"`
	Other string `json:"other"`
	Split string `envconfig:"SPLIT_WORDS,optional"`
}

func read(getenv func(string) string) {
	_ = os.Getenv("LOG_LEVEL")
	_, _ = os.LookupEnv("NATS_URL")
	_ = getenv("TARGET_REPO")
	_ = os.Getenv(dynamic())
}

func dynamic() string { return "NOT_A_NAME" }
