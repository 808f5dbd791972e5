// Command upstream is the agency's web app of latchkey's proxy tests: it
// echoes what it received, serves a large file, a WebSocket that echoes,
// a redirect to its own absolute address, and a cookie named like
// latchkey's. It prints "listening on ADDR" once it listens.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"

	"golang.org/x/net/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	self := "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "host": r.Host, "headers": r.Header})
	})
	mux.HandleFunc("/large", func(w http.ResponseWriter, r *http.Request) {
		mb, _ := strconv.Atoi(r.URL.Query().Get("mb"))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(mb<<20))
		chunk := make([]byte, 64<<10)
		for i := range chunk {
			chunk[i] = byte(i)
		}
		for n := 0; n < mb<<20; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, self+"/landed?from=redirect", http.StatusFound)
	})
	mux.HandleFunc("/landed", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "landed") })
	mux.HandleFunc("/cookies", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "latchkey_session", Value: "from-the-upstream", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "app_session", Value: "mine", Path: "/"})
		io.WriteString(w, "cookies set")
	})
	mux.Handle("/ws", websocket.Handler(func(c *websocket.Conn) { io.Copy(c, c) }))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "<h1>The agency's app</h1><p>%s</p>", r.URL.Path)
	})
	fmt.Println("listening on " + ln.Addr().String())
	log.Fatal(http.Serve(ln, mux))
}
