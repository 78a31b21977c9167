// Command schemacheck compares two txntoken schema documents and exits
// non-zero when the second breaks the first, so CI can stop schema drift
// before a deploy.
//
//	go run ./examples/schemacheck old.json new.json
//
// Exit status: 0 when every change is safe, 1 when any change is breaking,
// 2 when a document cannot be read or is invalid.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/tokenpattern/tokenpattern/txntoken"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: schemacheck OLD.json NEW.json

Compares two txntoken schema documents and lists every change.
Exit status: 0 when every change is safe, 1 when any change is breaking,
2 when a document cannot be read or is invalid.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if len(args) != 2 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	from, err := txntoken.LoadRegistry(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", args[0], err)
		return 2
	}
	to, err := txntoken.LoadRegistry(args[1])
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", args[1], err)
		return 2
	}
	report := txntoken.Compare(from, to)
	for _, c := range report.Changes {
		fmt.Fprintln(stdout, c)
	}
	if report.Breaking() {
		fmt.Fprintf(stdout, "%d breaking change(s)\n", len(report.BreakingChanges()))
		return 1
	}
	fmt.Fprintf(stdout, "%d change(s), none breaking\n", len(report.Changes))
	return 0
}
