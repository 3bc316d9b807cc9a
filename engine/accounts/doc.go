// Package accounts is chatd's accounts: registration, login and logout over HTTP
// (POST /api/register, /api/login, /api/logout), argon2id password hashes, login
// tokens kept as SHA-256 hashes with an expiry, per-IP limits on failed attempts,
// and JWTs from a site that embeds chatd (--jwt-key).
//
// Concurrency: HTTP handlers (nbhttp's handler goroutines) and the JWT verifiers do
// the hashing and the database work; the chat's owner only ever calls Session,
// which reads the in-memory index (a map under a mutex held for a lookup, never
// across a disk write or a hash). The index is loaded at start and updated after each
// write commits. Names and userIds come from the chat through Registrar, on its owner,
// so a registered name is reserved exactly as nicknames are compared and account
// userIds come from the chat's durably reserved blocks, never colliding with
// anonymous ones.
//
// On a cluster node (SetShared) the accounts are the cluster's: every write goes to
// Shared first (JetStream KV, engine/cluster), and the index mirrors what every node
// wrote through the Apply methods; a lookup that misses asks the cluster before it
// answers no (shared.go).
package accounts
