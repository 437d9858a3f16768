//go:build tools

// Package tools pins actionlint, the GitHub Actions workflow linter run by `make lint`.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
