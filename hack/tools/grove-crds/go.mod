module github.com/dynamo-platform/hack/tools/grove-crds

go 1.25.0

require github.com/ai-dynamo/grove/operator/api v0.1.0-alpha.8
