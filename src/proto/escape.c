/* XHTML escaping and unescaping with Tornado 6.2's exact rules. */
#include "config.h"

#include <gust/httputil.h>

#include <string.h>

#include "base/base_int.h"

/* HTML 4 named character references (252 names), sorted by name for
 * binary search. */
static const struct entity {
  const char *name;
  uint32_t cp;
} entities[] = {
    {"AElig", 198},    {"Aacute", 193},   {"Acirc", 194},   {"Agrave", 192},
    {"Alpha", 913},    {"Aring", 197},    {"Atilde", 195},  {"Auml", 196},
    {"Beta", 914},     {"Ccedil", 199},   {"Chi", 935},     {"Dagger", 8225},
    {"Delta", 916},    {"ETH", 208},      {"Eacute", 201},  {"Ecirc", 202},
    {"Egrave", 200},   {"Epsilon", 917},  {"Eta", 919},     {"Euml", 203},
    {"Gamma", 915},    {"Iacute", 205},   {"Icirc", 206},   {"Igrave", 204},
    {"Iota", 921},     {"Iuml", 207},     {"Kappa", 922},   {"Lambda", 923},
    {"Mu", 924},       {"Ntilde", 209},   {"Nu", 925},      {"OElig", 338},
    {"Oacute", 211},   {"Ocirc", 212},    {"Ograve", 210},  {"Omega", 937},
    {"Omicron", 927},  {"Oslash", 216},   {"Otilde", 213},  {"Ouml", 214},
    {"Phi", 934},      {"Pi", 928},       {"Prime", 8243},  {"Psi", 936},
    {"Rho", 929},      {"Scaron", 352},   {"Sigma", 931},   {"THORN", 222},
    {"Tau", 932},      {"Theta", 920},    {"Uacute", 218},  {"Ucirc", 219},
    {"Ugrave", 217},   {"Upsilon", 933},  {"Uuml", 220},    {"Xi", 926},
    {"Yacute", 221},   {"Yuml", 376},     {"Zeta", 918},    {"aacute", 225},
    {"acirc", 226},    {"acute", 180},    {"aelig", 230},   {"agrave", 224},
    {"alefsym", 8501}, {"alpha", 945},    {"amp", 38},      {"and", 8743},
    {"ang", 8736},     {"aring", 229},    {"asymp", 8776},  {"atilde", 227},
    {"auml", 228},     {"bdquo", 8222},   {"beta", 946},    {"brvbar", 166},
    {"bull", 8226},    {"cap", 8745},     {"ccedil", 231},  {"cedil", 184},
    {"cent", 162},     {"chi", 967},      {"circ", 710},    {"clubs", 9827},
    {"cong", 8773},    {"copy", 169},     {"crarr", 8629},  {"cup", 8746},
    {"curren", 164},   {"dArr", 8659},    {"dagger", 8224}, {"darr", 8595},
    {"deg", 176},      {"delta", 948},    {"diams", 9830},  {"divide", 247},
    {"eacute", 233},   {"ecirc", 234},    {"egrave", 232},  {"empty", 8709},
    {"emsp", 8195},    {"ensp", 8194},    {"epsilon", 949}, {"equiv", 8801},
    {"eta", 951},      {"eth", 240},      {"euml", 235},    {"euro", 8364},
    {"exist", 8707},   {"fnof", 402},     {"forall", 8704}, {"frac12", 189},
    {"frac14", 188},   {"frac34", 190},   {"frasl", 8260},  {"gamma", 947},
    {"ge", 8805},      {"gt", 62},        {"hArr", 8660},   {"harr", 8596},
    {"hearts", 9829},  {"hellip", 8230},  {"iacute", 237},  {"icirc", 238},
    {"iexcl", 161},    {"igrave", 236},   {"image", 8465},  {"infin", 8734},
    {"int", 8747},     {"iota", 953},     {"iquest", 191},  {"isin", 8712},
    {"iuml", 239},     {"kappa", 954},    {"lArr", 8656},   {"lambda", 955},
    {"lang", 9001},    {"laquo", 171},    {"larr", 8592},   {"lceil", 8968},
    {"ldquo", 8220},   {"le", 8804},      {"lfloor", 8970}, {"lowast", 8727},
    {"loz", 9674},     {"lrm", 8206},     {"lsaquo", 8249}, {"lsquo", 8216},
    {"lt", 60},        {"macr", 175},     {"mdash", 8212},  {"micro", 181},
    {"middot", 183},   {"minus", 8722},   {"mu", 956},      {"nabla", 8711},
    {"nbsp", 160},     {"ndash", 8211},   {"ne", 8800},     {"ni", 8715},
    {"not", 172},      {"notin", 8713},   {"nsub", 8836},   {"ntilde", 241},
    {"nu", 957},       {"oacute", 243},   {"ocirc", 244},   {"oelig", 339},
    {"ograve", 242},   {"oline", 8254},   {"omega", 969},   {"omicron", 959},
    {"oplus", 8853},   {"or", 8744},      {"ordf", 170},    {"ordm", 186},
    {"oslash", 248},   {"otilde", 245},   {"otimes", 8855}, {"ouml", 246},
    {"para", 182},     {"part", 8706},    {"permil", 8240}, {"perp", 8869},
    {"phi", 966},      {"pi", 960},       {"piv", 982},     {"plusmn", 177},
    {"pound", 163},    {"prime", 8242},   {"prod", 8719},   {"prop", 8733},
    {"psi", 968},      {"quot", 34},      {"rArr", 8658},   {"radic", 8730},
    {"rang", 9002},    {"raquo", 187},    {"rarr", 8594},   {"rceil", 8969},
    {"rdquo", 8221},   {"real", 8476},    {"reg", 174},     {"rfloor", 8971},
    {"rho", 961},      {"rlm", 8207},     {"rsaquo", 8250}, {"rsquo", 8217},
    {"sbquo", 8218},   {"scaron", 353},   {"sdot", 8901},   {"sect", 167},
    {"shy", 173},      {"sigma", 963},    {"sigmaf", 962},  {"sim", 8764},
    {"spades", 9824},  {"sub", 8834},     {"sube", 8838},   {"sum", 8721},
    {"sup", 8835},     {"sup1", 185},     {"sup2", 178},    {"sup3", 179},
    {"supe", 8839},    {"szlig", 223},    {"tau", 964},     {"there4", 8756},
    {"theta", 952},    {"thetasym", 977}, {"thinsp", 8201}, {"thorn", 254},
    {"tilde", 732},    {"times", 215},    {"trade", 8482},  {"uArr", 8657},
    {"uacute", 250},   {"uarr", 8593},    {"ucirc", 251},   {"ugrave", 249},
    {"uml", 168},      {"upsih", 978},    {"upsilon", 965}, {"uuml", 252},
    {"weierp", 8472},  {"xi", 958},       {"yacute", 253},  {"yen", 165},
    {"yuml", 255},     {"zeta", 950},     {"zwj", 8205},    {"zwnj", 8204},
};

int gust_xhtml_escape(const uint8_t *s, size_t n, gust_buf *out) {
  size_t start, i, run = 0;
  int rc = 0;
  if (out == NULL || (s == NULL && n != 0))
    return GUST_EINVAL;
  if (n == 0)
    return 0;
  start = out->len;
  for (i = 0; i < n && rc == 0; i++) {
    const char *rep;
    switch (s[i]) {
    case '&':
      rep = "&amp;";
      break;
    case '<':
      rep = "&lt;";
      break;
    case '>':
      rep = "&gt;";
      break;
    case '"':
      rep = "&quot;";
      break;
    case '\'':
      rep = "&#39;";
      break;
    default:
      continue;
    }
    rc = gust_buf_append(out, s + run, i - run);
    if (rc == 0)
      rc = gust_buf_append_str(out, rep);
    run = i + 1;
  }
  if (rc == 0)
    rc = gust_buf_append(out, s + run, n - run);
  if (rc != 0)
    gust_buf_truncate(out, start);
  return rc;
}

static int is_word(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

static int digit_value(uint8_t c, int base) {
  int v;
  if (c >= '0' && c <= '9')
    v = c - '0';
  else if (c >= 'a' && c <= 'z')
    v = c - 'a' + 10;
  else if (c >= 'A' && c <= 'Z')
    v = c - 'A' + 10;
  else
    return -1;
  return v < base ? v : -1;
}

/* Python's int(s, base) for word characters: an optional 0x prefix in base
 * 16, then digits with single underscores between them (or right after the
 * prefix). Sets *cp (saturated above 0x10FFFF) and returns 1 if it parses. */
static int python_int(const uint8_t *s, size_t n, int base, uint32_t *cp) {
  size_t i = 0;
  uint32_t v = 0;
  int need_digit = 1, any = 0;
  if (base == 16 && n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    i = 2;
    if (i < n && s[i] == '_')
      i++;
  }
  for (; i < n; i++) {
    int d;
    if (s[i] == '_') {
      if (need_digit)
        return 0;
      need_digit = 1;
      continue;
    }
    d = digit_value(s[i], base);
    if (d < 0)
      return 0;
    v = v > 0x110000 ? 0x110000 : v * (uint32_t)base + (uint32_t)d;
    need_digit = 0;
    any = 1;
  }
  if (!any || need_digit)
    return 0;
  *cp = v;
  return 1;
}

static int append_utf8(gust_buf *out, uint32_t cp) {
  uint8_t b[4];
  size_t n;
  if (cp < 0x80) {
    b[0] = (uint8_t)cp;
    n = 1;
  } else if (cp < 0x800) {
    b[0] = (uint8_t)(0xC0 | cp >> 6);
    b[1] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    b[0] = (uint8_t)(0xE0 | cp >> 12);
    b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    b[2] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    b[0] = (uint8_t)(0xF0 | cp >> 18);
    b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return gust_buf_append(out, b, n);
}

static int find_entity(const uint8_t *name, size_t n, uint32_t *cp) {
  size_t lo = 0, hi = GUST__ARRAY_SIZE(entities);
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const char *e = entities[mid].name;
    size_t elen = strlen(e);
    int c = memcmp(name, e, n < elen ? n : elen);
    if (c == 0)
      c = n < elen ? -1 : (n > elen ? 1 : 0);
    if (c == 0) {
      *cp = entities[mid].cp;
      return 1;
    }
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return 0;
}

/* Tries to decode the reference starting with '&' at s[0]; on success sets
 * *cp and *used (bytes consumed through ';'). Mirrors the regular
 * expression &(#?)(\w+?); followed by Tornado's conversion. */
static int decode_reference(const uint8_t *s, size_t n, uint32_t *cp,
                            size_t *used) {
  size_t i = 1, w;
  int numeric = 0;
  if (i < n && s[i] == '#') {
    numeric = 1;
    i++;
  }
  w = i;
  while (w < n && is_word(s[w]))
    w++;
  if (w == i || w >= n || s[w] != ';')
    return 0;
  *used = w + 1;
  if (numeric) {
    int ok;
    if (s[i] == 'x' || s[i] == 'X')
      ok = python_int(s + i + 1, w - i - 1, 16, cp);
    else
      ok = python_int(s + i, w - i, 10, cp);
    return ok && *cp <= 0x10FFFF && !(*cp >= 0xD800 && *cp <= 0xDFFF);
  }
  return find_entity(s + i, w - i, cp);
}

int gust_xhtml_unescape(const uint8_t *s, size_t n, gust_buf *out) {
  size_t start, i = 0, run = 0;
  int rc = 0;
  if (out == NULL || (s == NULL && n != 0))
    return GUST_EINVAL;
  if (n == 0)
    return 0;
  start = out->len;
  while (i < n && rc == 0) {
    const uint8_t *amp = memchr(s + i, '&', n - i);
    uint32_t cp;
    size_t used;
    if (amp == NULL)
      break;
    i = (size_t)(amp - s);
    if (!decode_reference(s + i, n - i, &cp, &used)) {
      /* Kept verbatim; a reference holds no '&', so rescanning from the
       * next byte finds what the regular expression would. */
      i++;
      continue;
    }
    rc = gust_buf_append(out, s + run, i - run);
    if (rc == 0)
      rc = append_utf8(out, cp);
    i += used;
    run = i;
  }
  if (rc == 0)
    rc = gust_buf_append(out, s + run, n - run);
  if (rc != 0)
    gust_buf_truncate(out, start);
  return rc;
}
