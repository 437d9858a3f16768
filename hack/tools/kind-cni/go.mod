module github.com/dynamo-platform/hack/tools/kind-cni

go 1.26.0
