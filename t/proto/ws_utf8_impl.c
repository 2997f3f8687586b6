/* A private copy of the UTF-8 validator for the tests, built from the
 * library source under other names so that the tests can select each
 * implementation through its internal hook (hidden in the library). */
#define gust_utf8_feed       tst_utf8_feed
#define gust_utf8_complete   tst_utf8_complete
#define gust_utf8_valid      tst_utf8_valid
#define gust__utf8_set_level tst_utf8_set_level
#include "../../src/proto/ws_utf8.c"
