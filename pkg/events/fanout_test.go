package events

func init() {
	const delivery = "9a8b7c6d-1e2f-11f0-8a3b-0242ac120002"
	examples[TypeFanoutRequested] = &FanoutRequested{
		DeliveryID:       delivery,
		URL:              "https://argocd.prod-eu.example.com/api/webhook",
		DeliveryStream:   StreamGitHub,
		DeliverySequence: 1042,
		Commit:           "6dcb09b5b57875f334f61aebed695e2e4193db5e",
		SkipTLSVerify:    true,
	}
	examples[TypeFanoutDelivered] = &FanoutDelivered{
		DeliveryID: delivery,
		URL:        "https://argocd.prod-eu.example.com/api/webhook",
		StatusCode: 200,
		Attempts:   2,
	}
	examples[TypeFanoutFailed] = &FanoutFailed{
		DeliveryID: delivery,
		URL:        "https://argocd.prod-us.example.com/api/webhook",
		Reason:     FanoutFailedAttempts,
		StatusCode: 503,
		Error:      "endpoint answered 503 Service Unavailable",
		Attempts:   3,
	}
	examples[TypeFanoutRejected] = &FanoutRejected{
		DeliveryID: delivery,
		URL:        "https://attacker.example.net/hook",
		Commit:     "6dcb09b5b57875f334f61aebed695e2e4193db5e",
		Reason:     "does not fully match FANOUT_ALLOWED_URL_REGEX",
	}
}
