/* llhttp's api.c, from node-llhttp, built as a benchmark anchor. */
#include "api.c"
