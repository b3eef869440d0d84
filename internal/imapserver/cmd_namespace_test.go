package imapserver

import "testing"

func TestNamespace(t *testing.T) {
	ts := newTestServer(t)
	c := ts.raw(t)
	c.expectCmd("a NAMESPACE", "a BAD NAMESPACE not allowed now.")
	c.cmd("b LOGIN alice password")
	c.expectCmd("c NAMESPACE", `* NAMESPACE (("" "/")) NIL NIL`, "c OK NAMESPACE completed")
	c.expectBad("d NAMESPACE x")
}
