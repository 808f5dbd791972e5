// Package message reads a received email (the built-in catcher's) for a
// person: headers decoded, the text and HTML parts, inline images. It is
// what the console and the web's mail viewer use, so it must not import
// go-smtp or anything that sends mail.
package message

// MaxBytes bounds one message: the catcher accepts no more, and a part
// is read up to it.
const MaxBytes = 10 << 20
