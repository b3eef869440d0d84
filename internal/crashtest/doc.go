// Package crashtest holds an end-to-end crash-safety test of the casier
// binary: clients APPEND in a loop while the server is killed with SIGKILL
// at random moments; after a restart every acknowledged message must be
// there, byte for byte, and the counters must agree with the messages.
//
// The test builds cmd/casier and runs it on 127.0.0.1; it is skipped with
// -short. The package has no non-test code.
package crashtest
