/* A private copy of the masking code for the tests, built from the
 * library source under other names so that the tests can select each
 * block width through its internal hook (hidden in the library). */
#define GUST__WS_MASK_HOOK      1
#define gust_ws_mask            tst_ws_mask
#define gust_ws_mask_copy       tst_ws_mask_copy
#define gust__ws_mask_set_level tst_ws_mask_set_level
#include "../../src/proto/ws_mask.c"
