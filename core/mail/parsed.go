package mail

import "latchkey/core/mail/message"

// Parsed is a received message, decoded for reading (see package message).
type Parsed = message.Parsed

// Parse reads a received message (see package message).
func Parse(raw []byte) (Parsed, error) { return message.Parse(raw) }
