/* llhttp's llhttp.c, from node-llhttp, built as a benchmark anchor. */
#include "llhttp.c"
