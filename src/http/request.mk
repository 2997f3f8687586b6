## HTTP server request object: request line, host, xheaders, arguments,
## files and cookies (src/http/request.c, t/http/request*).
