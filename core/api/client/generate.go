// Package client is a Go client of latchkey's HTTP admin API, generated
// by oapi-codegen from the OpenAPI document the API serves
// (core/api/openapi.json). Nothing here is written by hand but this file
// and cfg.yaml: after the document changes, run `go generate
// ./core/api/client` and commit client.gen.go with it.
package client

//go:generate go tool oapi-codegen -config cfg.yaml -o client.gen.go ../openapi.json
