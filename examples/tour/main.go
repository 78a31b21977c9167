// Command tour runs all four token patterns end to end in one process: an
// auth server, an API gateway, a profile service and a payment service,
// each a real http.Server on 127.0.0.1 with an ephemeral port. A client
// walks through the session-ID, JWT, phantom-token and transaction-token
// patterns, and every request prints who called whom, the token each hop
// saw, the status and the auth-server calls so far. A summary table
// compares the patterns.
//
//	go run ./examples/tour            # the tour
//	go run ./examples/tour -v         # with full tokens and headers
//	go run ./examples/tour -listen    # then keep the servers up for curl
//
// The program exits with status 1 if any outcome differs from the expected
// one, naming it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	verbose := flag.Bool("v", false, "print full tokens and the request headers of every hop")
	listen := flag.Bool("listen", false, "after the tour, keep the servers running for manual curl calls until interrupted")
	flag.Usage = func() {
		out := flag.CommandLine.Output()
		fmt.Fprintf(out, "Usage: go run ./examples/tour [-v] [-listen]\n\n")
		fmt.Fprintf(out, "Runs an auth server, an API gateway, a profile service and a payment service on\n")
		fmt.Fprintf(out, "127.0.0.1 and walks a client through the session-ID, JWT, phantom-token and\n")
		fmt.Fprintf(out, "transaction-token patterns. Exits with status 1 if an outcome is not the expected one.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	top, err := startTopology(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tour: starting the servers failed:", err)
		os.Exit(1)
	}
	res := runTour(ctx, os.Stdout, top, options{verbose: *verbose, requests: 100})
	if *listen && ctx.Err() == nil {
		if err := printCurlCommands(ctx, os.Stdout, top); err != nil {
			fmt.Fprintln(os.Stderr, "tour: preparing the curl commands failed:", err)
		} else {
			<-ctx.Done()
		}
	}
	top.Close()
	if len(res.Failures) > 0 {
		for _, f := range res.Failures {
			fmt.Fprintln(os.Stderr, "tour: unexpected outcome:", f)
		}
		os.Exit(1)
	}
}

// printCurlCommands logs alice in again and prints commands that exercise
// each pattern against the running servers.
func printCurlCommands(ctx context.Context, w io.Writer, top *topology) error {
	token, err := freshLogin(ctx, top)
	if err != nil {
		return err
	}
	p := func(comment, cmd string) { fmt.Fprintf(w, "\n  # %s\n  %s\n", comment, cmd) }
	fmt.Fprintf(w, "\nServers stay up until Ctrl-C (or SIGTERM). A fresh session for alice:\n\n")
	fmt.Fprintf(w, "  TOKEN=%s\n", token)
	p("1. session ID: the profile service asks the auth server on every call",
		fmt.Sprintf(`curl -i -H "Authorization: Bearer $TOKEN" %s/session/profile`, top.ProfileURL))
	p("2. JWT: log in for a JWT, then call the profile service with it",
		fmt.Sprintf(`JWT=$(curl -s -d username=alice %s/login/jwt | sed -E 's/.*"access_token":"([^"]+)".*/\1/')`, top.AuthURL))
	fmt.Fprintf(w, "  %s\n", fmt.Sprintf(`curl -i -H "Authorization: Bearer $JWT" %s/profile`, top.ProfileURL))
	p("3. phantom token: the gateway exchanges the opaque token and forwards a JWT",
		fmt.Sprintf(`curl -i -H "Authorization: Bearer $TOKEN" %s/profile`, top.GatewayURL))
	p("4. transaction token: the gateway exchanges it for a payment_initiate token",
		fmt.Sprintf(`curl -i -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -d '%s' %s/payments`, paymentBody, top.GatewayURL))
	p("revoke the session, then repeat the calls above",
		fmt.Sprintf(`curl -i -u %s:%s -d "token=$TOKEN" %s/revoke`, appClientID, top.AppSecret, top.AuthURL))
	p("the public keys services verify with",
		fmt.Sprintf(`curl -s %s/jwks`, top.AuthURL))
	fmt.Fprintln(w)
	return nil
}

func freshLogin(ctx context.Context, top *topology) (string, error) {
	form := url.Values{"username": {"alice"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, top.AuthURL+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := top.trace.client("client").Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&out); err != nil || out.AccessToken == "" {
		return "", fmt.Errorf("login returned %d without a token", resp.StatusCode)
	}
	return out.AccessToken, nil
}
