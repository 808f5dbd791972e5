// Package message reads a caught email for people to look at: its headers
// decoded and the text and HTML parts of its body, transfer-decoded. The
// web mail viewer and the console's Mail screen use it.
//
// It owns parsing only and must not send, receive or store mail, nor
// import go-smtp or anything else of package mail: the adapters that show
// caught mail would otherwise pull the SMTP stack in with it.
package message
