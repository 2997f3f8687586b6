/* llhttp's http.c, from node-llhttp, built as a benchmark anchor. */
#include "http.c"
