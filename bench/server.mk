## HTTP server benchmark against nginx and Tornado, and the black-box
## interop tests of the HTTP server with real peers (bench/server*,
## t/interop/httpserver*).
