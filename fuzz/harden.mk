## Hardening (issue 16): AFL++ builds of the fuzz targets, differential
## fuzzing of the HTTP/1 request parser against llhttp, allocation torture.
