package edit

import (
	"container/list"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/mikefarah/yq/v4/pkg/yqlib"
	logging "gopkg.in/op/go-logging.v1"
)

// yqMu serialises use of yqlib, whose expression parser and logger are
// package globals.
var (
	yqMu   sync.Mutex
	yqOnce sync.Once
)

func initYQ() {
	yqOnce.Do(func() {
		// yqlib logs every step at debug level through a global logger.
		logging.SetLevel(logging.ERROR, "yq-lib")
		yqlib.InitExpressionParser()
	})
}

// allowedOps are the yq operations an address may use: paths, selection,
// comparison and pure functions of the document. Operations that read files
// or the environment, evaluate strings as expressions, or change the
// document are refused, so an address from a bump request can neither leak
// the server's secrets into a PR nor rewrite more than it selects.
var allowedOps = map[string]bool{
	"TRAVERSE_PATH": true, "TRAVERSE_ARRAY": true, "PIPE": true, "SHORT_PIPE": true,
	"SELECT": true, "EQUALS": true, "NOT_EQUALS": true, "COMPARE": true,
	"AND": true, "OR": true, "NOT": true, "VALUE": true, "SELF": true,
	"UNION": true, "COLLECT": true, "RECURSIVE_DESCENT": true, "HAS": true,
	"TEST": true, "CONTAINS": true, "GET_KEY": true, "IS_KEY": true,
	"LENGTH": true, "ALTERNATIVE": true, "BLOCK": true, "EMPTY": true,
	"GET_DOCUMENT_INDEX": true, "FILTER": true, "ANY": true, "ALL": true,
	"ANY_CONDITION": true, "ALL_CONDITION": true, "GET_TAG": true,
	"GET_KIND": true, "GET_STYLE": true, "GET_VARIABLE": true,
	"ASSIGN_VARIABLE": true, "MATCH": true, "CAPTURE": true, "SPLIT": true,
	"SUBSTR": true, "TRIM": true, "CHANGE_CASE": true, "TO_STRING": true,
	"TO_NUMBER": true, "STRING_INT": true, "MIN": true, "MAX": true,
	"ADD": true, "SUBTRACT": true, "GET_PARENT": true, "MAP": true,
}

// parseAddress parses a yq path expression and checks that it only uses
// allowed operations. Callers hold yqMu.
func parseAddress(address string) (*yqlib.ExpressionNode, error) {
	initYQ()
	if strings.TrimSpace(address) == "" {
		return nil, fmt.Errorf("the address is empty")
	}
	expr, err := yqlib.ExpressionParser.ParseExpression(address)
	if err != nil {
		return nil, fmt.Errorf("parsing the address %q: %w", address, err)
	}
	if expr == nil {
		return nil, fmt.Errorf("the address %q selects nothing", address)
	}
	refused := map[string]bool{}
	collectRefused(expr, refused)
	if len(refused) > 0 {
		names := make([]string, 0, len(refused))
		for n := range refused {
			names = append(names, strings.ToLower(n))
		}
		sort.Strings(names)
		return nil, fmt.Errorf("the address %q uses operations that are not allowed in a bump address: %s", address, strings.Join(names, ", "))
	}
	return expr, nil
}

func collectRefused(n *yqlib.ExpressionNode, refused map[string]bool) {
	if n == nil {
		return
	}
	if n.Operation != nil && n.Operation.OperationType != nil {
		if t := n.Operation.OperationType.Type; !allowedOps[t] {
			refused[t] = true
		}
	}
	collectRefused(n.LHS, refused)
	collectRefused(n.RHS, refused)
}

// ValidateAddress reports whether address is a yq path expression a bump may
// use, without needing a document.
func ValidateAddress(address string) error {
	yqMu.Lock()
	defer yqMu.Unlock()
	_, err := parseAddress(address)
	return err
}

// selectNodes evaluates expr over the documents' roots in a writable
// context, so that missing map keys along the path are created (yq's
// auto-create), and returns the selected nodes. Callers hold yqMu.
func selectNodes(expr *yqlib.ExpressionNode, roots []*yqlib.CandidateNode) (nodes []*yqlib.CandidateNode, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("evaluating the address failed: %v", r)
		}
	}()
	in := list.New()
	for _, r := range roots {
		in.PushBack(r)
	}
	ctx, err := yqlib.NewDataTreeNavigator().GetMatchingNodes(yqlib.Context{MatchingNodes: in}, expr)
	if err != nil {
		return nil, fmt.Errorf("evaluating the address: %w", err)
	}
	for e := ctx.MatchingNodes.Front(); e != nil; e = e.Next() {
		if c, ok := e.Value.(*yqlib.CandidateNode); ok {
			nodes = append(nodes, c)
		}
	}
	return nodes, nil
}
