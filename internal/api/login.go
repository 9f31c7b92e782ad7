package api

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"strings"
)

// tokenCookie carries the access token for browsers, which cannot send an
// Authorization header with page loads. It is HttpOnly and SameSite=Strict,
// so no other site's page can make a browser send it.
const tokenCookie = "redthread_token"

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>redthread — sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:28em;margin:4em auto;padding:0 1em}
input{font:inherit;padding:.4em;width:100%;box-sizing:border-box;margin:.5em 0}
button{font:inherit;padding:.4em 1.2em}.err{color:#b00}</style></head>
<body><h1>redthread</h1>
<p>This server listens beyond this machine and needs its access token (the <code>--token</code> it was started with).</p>
{{if .}}<p class="err">{{.}}</p>{{end}}
<form method="post" action="/login"><label>Access token
<input type="password" name="token" autocomplete="current-password" autofocus required></label>
<button type="submit">Sign in</button></form></body></html>`))

// tokenOK compares a presented token with the server's in constant time.
func (s *Server) tokenOK(tok string) bool {
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1
}

// login serves the sign-in form and, on a correct token, sets the cookie and
// sends the browser to the UI.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		loginPage.Execute(w, "")
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		if err := r.ParseForm(); err != nil || !s.tokenOK(r.PostForm.Get("token")) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			loginPage.Execute(w, "Wrong token.")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: r.PostForm.Get("token"), Path: "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// wantsHTML reports whether a request is a browser page load.
func wantsHTML(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html")
}
