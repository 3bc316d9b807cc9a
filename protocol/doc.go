// Package protocol is chatd's wire format and nothing else: the action names, the
// messages a client sends and the server answers, their decoding and encoding, and the
// text rules (HTML escaping, {nick} mentions, name and color filtering).
//
// It stays compatible with the seed's Qt client (SimpleChat): one JSON object per TEXT
// frame, an "action" key on everything the server sends, chat lines sent by the client
// with no action at all. Everything chatd adds is additive, so that client ignores it.
package protocol
