module github.com/dynamo-platform/hack/tools/pause

go 1.26.0
