// Package scenario runs chatbench's scenarios (connect, idle, broadcast, private,
// churn, rooms, history) on a loadgen.Pool and fills a Result.
//
// Every message text is "cb <run> <id> <send µs> <padding>": a receiver knows which
// message of which run it got and when it was sent, so latency is end to end on one
// clock, history replayed from earlier runs is ignored, and each receiver's bitset of
// ids counts duplicates. Expected deliveries are the written messages (minus those the
// server answered rate_limited) times their recipients; loss is expected - received.
// Server figures come from /proc/PID (CPU, RSS, fds) and chatd's /status.
package scenario
