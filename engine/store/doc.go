// Package store keeps chat history: every room and private message with its
// server-assigned seq and timestamp, the resumable identities, and what the chat needs
// back at start (each room's last seq, recent clientMsgIds).
//
// Store is the seam (SQLite in one file by default; a shared store for clusters later).
// Its methods block on disk, so the chat never calls them on the owner goroutine:
// writes go through a Writer, whose goroutine commits in batches (group commit) and
// reports each commit through a callback; reads run on goroutines of their own.
package store
