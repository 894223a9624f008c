package events

func init() {
	examples[TypeArgoDiffCommented] = &ArgoDiffCommented{
		HeadSHA: "2f5e0c8a91d04b7c3e6a8f1b2d4c6e8a0b1c3d5e",
		Components: []ArgoDiffComponent{
			{Path: "clusters/prod/nginx", App: "nginx-prod", Result: ArgoDiffChanged, Objects: 2},
			{Path: "clusters/prod/redis", App: "temp-redis-prod", Temporary: true, Result: ArgoDiffError, Error: "rendering the manifests of Argo CD application temp-redis-prod: rpc error: code = Unavailable"},
			{Path: "clusters/prod/web", Result: ArgoDiffNoApp},
		},
		CommentIDs: []int64{1042},
	}
	examples[TypeArgoDiffFailed] = &ArgoDiffFailed{
		HeadSHA: "2f5e0c8a91d04b7c3e6a8f1b2d4c6e8a0b1c3d5e",
		Reason:  "Argo CD diff failed: listing Argo CD applications: Argo CD API server unavailable",
	}
}
