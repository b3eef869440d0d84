// Package idletest holds an end-to-end test of LMTP delivery reaching an
// IMAP session in IDLE. It is a package of its own so that the delivery
// package's tests do not depend on imapserver.
package idletest
