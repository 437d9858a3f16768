// promql-check parses PromQL with Prometheus's own parser. It reads a JSON list of expressions on
// stdin and writes, for each, the parse error (empty when it parses) and the metric names its
// selectors query, so tests can hold dashboards and alert rules to what the components export.
package main

import (
	"encoding/json"
	"os"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

type result struct {
	Expr    string   `json:"expr"`
	Error   string   `json:"error"`
	Metrics []string `json:"metrics"`
}

func check(promql parser.Parser, expr string) result {
	out := result{Expr: expr, Metrics: []string{}}
	node, err := promql.ParseExpr(expr)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	seen := map[string]bool{}
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		if selector, ok := n.(*parser.VectorSelector); ok {
			for _, matcher := range selector.LabelMatchers {
				if matcher.Name == labels.MetricName && matcher.Type == labels.MatchEqual {
					seen[matcher.Value] = true
				}
			}
		}
		return nil
	})
	for name := range seen {
		out.Metrics = append(out.Metrics, name)
	}
	sort.Strings(out.Metrics)
	return out
}

func main() {
	var exprs []string
	if err := json.NewDecoder(os.Stdin).Decode(&exprs); err != nil {
		os.Stderr.WriteString("promql-check: stdin must be a JSON list of strings: " + err.Error() + "\n")
		os.Exit(2)
	}
	// Default options: the functions and syntax a stock Prometheus accepts.
	promql := parser.NewParser(parser.Options{})
	results := make([]result, 0, len(exprs))
	for _, expr := range exprs {
		results = append(results, check(promql, expr))
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		os.Exit(1)
	}
}
