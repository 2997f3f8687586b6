/* gust-apiref: builds the API reference (HTML pages and section 3 man pages)
 * from the doc comments in the public headers.
 *
 * A header is read as a sequence of comments, preprocessor lines and C
 * declarations. A comment directly followed by a declaration (no blank line
 * between) documents it; declarations that follow each other without a
 * blank line share that comment. A comment standing alone is prose, and a
 * comment framed by two dashed rules is a section title. The first comment
 * of the file introduces the header.
 *
 * Usage: gust-apiref [--html DIR] [--man DIR] [--version V] [--strict]
 *                    header.h...
 * With --strict, any declaration without a comment is reported on stderr
 * ("undocumented: FILE:LINE: NAME") and the exit status is 2. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...) {
  va_list ap;
  fputs("gust-apiref: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (q == NULL)
    die("out of memory");
  return q;
}

static char *xstrndup(const char *s, size_t n) {
  char *d = xrealloc(NULL, n + 1);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

static char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

/* A growable string. */
typedef struct str {
  char *p;
  size_t len, cap;
} str;

static void str_addn(str *s, const char *p, size_t n) {
  if (s->len + n + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 64;
    while (cap < s->len + n + 1)
      cap *= 2;
    s->p = xrealloc(s->p, cap);
    s->cap = cap;
  }
  memcpy(s->p + s->len, p, n);
  s->len += n;
  s->p[s->len] = '\0';
}

static void str_add(str *s, const char *p) { str_addn(s, p, strlen(p)); }

static void str_addc(str *s, char c) { str_addn(s, &c, 1); }

static char *str_take(str *s) {
  char *p = s->p ? s->p : xstrdup("");
  s->p = NULL;
  s->len = s->cap = 0;
  return p;
}

static int is_ident_start(int c) { return isalpha(c) || c == '_'; }
static int is_ident(int c) { return isalnum(c) || c == '_'; }

static int blank_line(const char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\r')
    s++;
  return *s == '\0';
}

/* ------------------------------------------------------------------ */
/* Model                                                               */
/* ------------------------------------------------------------------ */

enum { E_SECTION, E_PROSE, E_DECL };
enum { K_FUNC, K_TYPE, K_MACRO, K_CONST, K_VAR };
static const char *const kind_name[] = {"function", "type", "macro", "constant",
                                        "variable"};

typedef struct entry {
  int type;
  char *code; /* declaration text as written (E_DECL) */
  char *doc;  /* comment text, prefixes removed (may be "") */
  int line;   /* first line of the declaration */
} entry;

typedef struct symbol {
  char *name;
  int kind;
  int header; /* index into headers */
  int entry;  /* index into that header's entries */
} symbol;

typedef struct header {
  char *path;
  char *file;  /* "loop.h" */
  char *stem;  /* "loop" */
  char *intro; /* file comment */
  entry *entries;
  size_t n_entries;
} header;

static header *headers;
static size_t n_headers;
static symbol *symbols;
static size_t n_symbols;
static int undocumented;
static int strict;

/* Names of XX(NAME, ...) lines of X-macros such as GUST_ERRNO_MAP, so that
 * the enum that expands one can name its constants. */
typedef struct xmacro {
  char *name;
  char **items;
  size_t n_items;
} xmacro;
static xmacro *xmacros;
static size_t n_xmacros;

static int find_symbol(const char *name, size_t len) {
  size_t i;
  for (i = 0; i < n_symbols; i++)
    if (strlen(symbols[i].name) == len &&
        memcmp(symbols[i].name, name, len) == 0)
      return (int)i;
  return -1;
}

static void add_symbol(const char *name, size_t len, int kind, int h, int e) {
  if (len == 0 || find_symbol(name, len) >= 0)
    return;
  symbols = xrealloc(symbols, (n_symbols + 1) * sizeof *symbols);
  symbols[n_symbols].name = xstrndup(name, len);
  symbols[n_symbols].kind = kind;
  symbols[n_symbols].header = h;
  symbols[n_symbols].entry = e;
  n_symbols++;
}

static entry *add_entry(header *hd, int type, char *code, char *doc, int line) {
  hd->entries =
      xrealloc(hd->entries, (hd->n_entries + 1) * sizeof *hd->entries);
  hd->entries[hd->n_entries].type = type;
  hd->entries[hd->n_entries].code = code;
  hd->entries[hd->n_entries].doc = doc;
  hd->entries[hd->n_entries].line = line;
  return &hd->entries[hd->n_entries++];
}

/* Records one declaration: a new entry documented by the pending comment,
 * or, inside a group that has no comment of its own, one more line of the
 * group's entry. Returns the entry's index. */
static int add_decl(header *hd, const char *code, char **pending, int in_group,
                    size_t start) {
  if (!in_group || *pending != NULL) {
    add_entry(hd, E_DECL, xstrdup(code),
              *pending != NULL ? *pending : xstrdup(""), (int)start + 1);
    *pending = NULL;
  } else {
    entry *last = &hd->entries[hd->n_entries - 1];
    str joined = {0};
    str_add(&joined, last->code);
    str_addc(&joined, '\n');
    str_add(&joined, code);
    free(last->code);
    last->code = str_take(&joined);
  }
  return (int)hd->n_entries - 1;
}

/* ------------------------------------------------------------------ */
/* Reading a header                                                    */
/* ------------------------------------------------------------------ */

static char **read_lines(const char *path, size_t *n_out) {
  FILE *f = fopen(path, "r");
  char **lines = NULL;
  size_t n = 0;
  str cur = {0};
  int c;
  if (f == NULL)
    die("%s: %s", path, strerror(errno));
  while ((c = getc(f)) != EOF) {
    if (c == '\n') {
      lines = xrealloc(lines, (n + 1) * sizeof *lines);
      lines[n++] = str_take(&cur);
    } else {
      str_addc(&cur, (char)c);
    }
  }
  if (ferror(f))
    die("%s: read error", path);
  if (cur.len > 0) {
    lines = xrealloc(lines, (n + 1) * sizeof *lines);
    lines[n++] = str_take(&cur);
  }
  fclose(f);
  *n_out = n;
  return lines;
}

/* Turns the raw text of a comment ("/" "* ... *" "/") into plain text: the
 * delimiters and the " * " prefix of each line go, relative indentation
 * stays. */
static char *comment_text(const char *raw) {
  str out = {0};
  const char *p = raw + 2, *end = raw + strlen(raw) - 2;
  int first = 1;
  while (p <= end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    const char *q = p;
    if (first) {
      if (q < stop && *q == ' ')
        q++;
    } else {
      const char *r = q;
      while (r < stop && (*r == ' ' || *r == '\t'))
        r++;
      if (r < stop && *r == '*') {
        q = r + 1;
        if (q < stop && *q == ' ')
          q++;
      } else {
        /* No star column: drop the indentation of the opening text. */
        int k = 0;
        while (q < stop && *q == ' ' && k < 3) {
          q++;
          k++;
        }
      }
    }
    {
      const char *e = stop;
      while (e > q && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
      str_addn(&out, q, (size_t)(e - q));
    }
    str_addc(&out, '\n');
    first = 0;
    if (!nl)
      break;
    p = nl + 1;
  }
  /* Trim blank lines at both ends. */
  {
    char *s = str_take(&out);
    size_t len = strlen(s), a = 0;
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
      s[--len] = '\0';
    while (s[a] == '\n')
      a++;
    memmove(s, s + a, len - a + 1);
    return s;
  }
}

static int is_rule(const char *text) {
  size_t dashes = 0;
  for (; *text; text++) {
    if (*text == '-')
      dashes++;
    else if (!isspace((unsigned char)*text))
      return 0;
  }
  return dashes >= 8;
}

/* Copies `code` without comments and with runs of white space squeezed to
 * one space. */
static char *squeeze(const char *code) {
  str out = {0};
  const char *p = code;
  int space = 0;
  while (*p) {
    if (p[0] == '/' && p[1] == '*') {
      const char *e = strstr(p + 2, "*/");
      p = e ? e + 2 : p + strlen(p);
      space = 1;
      continue;
    }
    if (isspace((unsigned char)*p) || *p == '\\') {
      space = 1;
      p++;
      continue;
    }
    if (space && out.len > 0)
      str_addc(&out, ' ');
    space = 0;
    str_addc(&out, *p++);
  }
  return str_take(&out);
}

/* Returns the identifier ending right before `at` (skipping spaces) in `s`,
 * as a start pointer and length. */
static size_t ident_before(const char *s, const char *at, const char **start) {
  const char *e = at;
  const char *b;
  while (e > s && e[-1] == ' ')
    e--;
  b = e;
  while (b > s && is_ident(b[-1]))
    b--;
  *start = b;
  return (size_t)(e - b);
}

static size_t ident_at(const char *p) {
  size_t n = 0;
  if (!is_ident_start((unsigned char)*p))
    return 0;
  while (is_ident((unsigned char)p[n]))
    n++;
  return n;
}

/* Registers the enumerators of the enum body that starts after `brace`. */
static void enum_constants(const char *brace, int h, int e) {
  const char *p = brace + 1;
  int at_item = 1;
  int depth = 0;
  for (; *p && !(depth == 0 && *p == '}'); p++) {
    if (*p == '(' || *p == '{')
      depth++;
    else if (*p == ')' || *p == '}')
      depth--;
    else if (*p == ',' && depth == 0)
      at_item = 1;
    else if (*p == '#') {
      /* A macro line inside the body: `PREFIX##name` marks an X-macro. */
      const char *pp = strstr(p, "##");
      const char *nl = strchr(p, '\n');
      if (pp && (!nl || pp < nl)) {
        const char *st;
        size_t n = ident_before(p, pp, &st);
        char *prefix = xstrndup(st, n);
        size_t i, j;
        for (i = 0; i < n_xmacros; i++) {
          if (strstr(brace, xmacros[i].name) == NULL)
            continue;
          for (j = 0; j < xmacros[i].n_items; j++) {
            str full = {0};
            str_add(&full, prefix);
            str_add(&full, xmacros[i].items[j]);
            add_symbol(full.p, full.len, K_CONST, h, e);
            free(full.p);
          }
        }
        free(prefix);
      }
      while (*p && *p != '\n')
        p++;
      if (!*p)
        break;
      at_item = 1;
    } else if (p[0] == '/' && p[1] == '*') {
      const char *c = strstr(p + 2, "*/");
      if (!c)
        break;
      p = c + 1;
    } else if (at_item && is_ident_start((unsigned char)*p)) {
      size_t n = ident_at(p);
      if (p[n - 1] != '_' && !(n > 2 && strncmp(p, "GUST_ERRNO_MAP", n) == 0))
        add_symbol(p, n, K_CONST, h, e);
      p += n - 1;
      at_item = 0;
    } else if (!isspace((unsigned char)*p)) {
      at_item = 0;
    }
  }
}

/* Works out what a declaration declares and registers its names. Returns
 * the number of names registered. */
static int declare(const char *code, int h, int e) {
  char *s = squeeze(code);
  size_t before = n_symbols;
  const char *st;
  size_t n;
  if (s[0] == '#') {
    const char *p = s + 1;
    while (*p == ' ')
      p++;
    if (strncmp(p, "define ", 7) == 0) {
      p += 7;
      while (*p == ' ')
        p++;
      n = ident_at(p);
      if (n > 0 && strncmp(p, "GUST__", 6) != 0)
        add_symbol(p, n, K_MACRO, h, e);
      /* An X-macro: remember the first argument of each XX(...) line. */
      if (n > 0 && strncmp(p + n, "(XX)", 4) == 0) {
        xmacro *xm;
        const char *q = p + n + 4;
        xmacros = xrealloc(xmacros, (n_xmacros + 1) * sizeof *xmacros);
        xm = &xmacros[n_xmacros++];
        xm->name = xstrndup(p, n);
        xm->items = NULL;
        xm->n_items = 0;
        while ((q = strstr(q, "XX(")) != NULL) {
          size_t k;
          q += 3;
          while (*q == ' ')
            q++;
          k = ident_at(q);
          if (k > 0) {
            xm->items =
                xrealloc(xm->items, (xm->n_items + 1) * sizeof *xm->items);
            xm->items[xm->n_items++] = xstrndup(q, k);
          }
        }
      }
    }
  } else if (strncmp(s, "typedef ", 8) == 0) {
    const char *fp = strstr(s, "(*");
    const char *brace = strchr(s, '{');
    if (fp && (!brace || fp < brace)) {
      const char *p = fp + 2;
      while (*p == ' ')
        p++;
      n = ident_at(p);
      add_symbol(p, n, K_TYPE, h, e);
    } else {
      const char *semi = strrchr(s, ';');
      const char *end = semi ? semi : s + strlen(s);
      if (brace) {
        const char *close = strrchr(s, '}');
        if (close && close > end)
          end = s + strlen(s);
      }
      /* Skip a trailing array bound, then take the last identifier. */
      while (end > s && (end[-1] == ' ' || end[-1] == ']')) {
        if (end[-1] == ']') {
          while (end > s && end[-1] != '[')
            end--;
          if (end > s)
            end--;
        } else {
          end--;
        }
      }
      n = ident_before(s, end, &st);
      add_symbol(st, n, K_TYPE, h, e);
      if (brace && strstr(s, "typedef enum") == s)
        enum_constants(strchr(code, '{'), h, e);
    }
  } else if (strncmp(s, "enum", 4) == 0 || strncmp(s, "struct ", 7) == 0 ||
             strncmp(s, "union ", 6) == 0) {
    const char *brace = strchr(s, '{');
    const char *p = strchr(s, ' ');
    if (p && (!brace || p < brace)) {
      p++;
      n = ident_at(p);
      if (n > 0)
        add_symbol(p, n, K_TYPE, h, e);
    }
    if (strncmp(s, "enum", 4) == 0 && brace)
      enum_constants(strchr(code, '{'), h, e);
  } else {
    const char *paren = strchr(s, '(');
    int kind = K_FUNC;
    if (paren && paren[1] == '*') {
      const char *p = paren + 2;
      while (*p == ' ')
        p++;
      n = ident_at(p);
      st = p;
      kind = K_VAR;
    } else if (paren) {
      n = ident_before(s, paren, &st);
    } else {
      const char *semi = strrchr(s, ';');
      n = ident_before(s, semi ? semi : s + strlen(s), &st);
      kind = K_VAR;
    }
    add_symbol(st, n, kind, h, e);
  }
  free(s);
  return (int)(n_symbols - before);
}

/* Scans `line` from its start for a complete declaration: updates brace
 * depth and the in-comment state; returns 1 once a ';' or a closing '}' of
 * a preprocessor-free body ends it at depth 0. */
static int scan_decl(const char *line, int *depth, int *in_comment) {
  const char *p = line;
  int ended = 0;
  for (; *p; p++) {
    if (*in_comment) {
      if (p[0] == '*' && p[1] == '/') {
        *in_comment = 0;
        p++;
      }
      continue;
    }
    if (p[0] == '/' && p[1] == '*') {
      *in_comment = 1;
      p++;
    } else if (p[0] == '/' && p[1] == '/') {
      break;
    } else if (*p == '"' || *p == '\'') {
      char q = *p++;
      while (*p && *p != q) {
        if (*p == '\\' && p[1])
          p++;
        p++;
      }
      if (!*p)
        break;
    } else if (*p == '{' || *p == '(') {
      (*depth)++;
    } else if (*p == '}' || *p == ')') {
      (*depth)--;
    } else if (*p == ';' && *depth == 0) {
      ended = 1;
    }
  }
  return ended;
}

static const char *skip_ws(const char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  return s;
}

static void parse_header(header *hd, int h) {
  size_t n, i = 0;
  char **lines = read_lines(hd->path, &n);
  char *pending = NULL; /* comment waiting for its declaration */
  int pending_line = 0;
  int in_group = 0;   /* last thing seen was a declaration */
  int want_title = 0; /* after a dashed rule, before the title */
  int skip_depth = 0; /* inside #ifdef __cplusplus */
  int cond_depth = 0;
  char *guard = NULL;

  while (i < n) {
    const char *line = lines[i];
    const char *t = skip_ws(line);

    if (skip_depth > 0) {
      if (*t == '#') {
        const char *d = skip_ws(t + 1);
        if (strncmp(d, "if", 2) == 0)
          skip_depth++;
        else if (strncmp(d, "endif", 5) == 0)
          skip_depth--;
      }
      i++;
      continue;
    }

    if (blank_line(line)) {
      if (pending) {
        if (!want_title)
          add_entry(hd, E_PROSE, NULL, pending, pending_line);
        else
          free(pending);
        pending = NULL;
      }
      in_group = 0;
      i++;
      continue;
    }

    if (t[0] == '/' && t[1] == '*') {
      str raw = {0};
      size_t start = i;
      char *text;
      for (;;) {
        str_add(&raw, i == start ? t : lines[i]);
        if (strstr(i == start ? t + 2 : lines[i], "*/"))
          break;
        str_addc(&raw, '\n');
        if (++i >= n)
          die("%s:%zu: unterminated comment", hd->path, start + 1);
      }
      i++;
      {
        char *close = strstr(raw.p + 2, "*/");
        if (!blank_line(close + 2))
          die("%s:%zu: text after a comment on its closing line", hd->path, i);
        close[2] = '\0';
      }
      text = comment_text(raw.p);
      free(raw.p);
      in_group = 0;
      if (hd->intro == NULL) {
        hd->intro = text;
        continue;
      }
      if (is_rule(text)) {
        free(text);
        if (pending) {
          /* The comment before this rule was a title. */
          add_entry(hd, E_SECTION, NULL, pending, pending_line);
          pending = NULL;
          want_title = 0;
        } else {
          want_title = !want_title;
        }
        continue;
      }
      if (pending) {
        /* Two comments in a row: the first one is prose. */
        add_entry(hd, E_PROSE, NULL, pending, pending_line);
      }
      pending = text;
      pending_line = (int)start + 1;
      if (want_title) {
        add_entry(hd, E_SECTION, NULL, pending, pending_line);
        pending = NULL;
      }
      continue;
    }

    if (*t == '#') {
      const char *d = skip_ws(t + 1);
      str code = {0};
      size_t start = i;
      for (;;) {
        size_t len = strlen(lines[i]);
        str_add(&code, lines[i]);
        if (len == 0 || lines[i][len - 1] != '\\' || i + 1 >= n)
          break;
        str_addc(&code, '\n');
        i++;
      }
      i++;
      if (strncmp(d, "ifdef", 5) == 0 &&
          strcmp(skip_ws(d + 5), "__cplusplus") == 0) {
        skip_depth = 1;
        free(code.p);
        continue;
      }
      if (strncmp(d, "ifndef", 6) == 0 && guard == NULL && cond_depth == 0) {
        guard = xstrdup(skip_ws(d + 6));
        cond_depth++;
        free(code.p);
        continue;
      }
      if (strncmp(d, "if", 2) == 0) {
        cond_depth++;
        free(code.p);
        continue; /* a comment before #if documents what the #if defines */
      }
      if (strncmp(d, "endif", 5) == 0) {
        cond_depth--;
        free(code.p);
        continue;
      }
      if (strncmp(d, "el", 2) == 0 || strncmp(d, "include", 7) == 0 ||
          strncmp(d, "undef", 5) == 0 || strncmp(d, "pragma", 6) == 0) {
        free(code.p);
        continue;
      }
      if (strncmp(d, "define", 6) == 0) {
        const char *nm = skip_ws(d + 6);
        size_t k = ident_at(nm);
        if ((guard && strlen(guard) == k && strncmp(nm, guard, k) == 0) ||
            strncmp(nm, "GUST__", 6) == 0 ||
            (k > 0 && find_symbol(nm, k) >= 0)) {
          /* The include guard, an internal helper, or another branch of a
           * macro already documented. */
          free(code.p);
          if (pending) {
            free(pending);
            pending = NULL;
          }
          in_group = 1;
          continue;
        }
      }
      declare(code.p, h, add_decl(hd, code.p, &pending, in_group, start));
      free(code.p);
      in_group = 1;
      continue;
    }

    if (strncmp(t, "extern \"C\"", 10) == 0 || (t[0] == '}' && t[1] == '\0')) {
      i++;
      continue;
    }

    /* A C declaration: collect lines until ';' at depth 0. */
    {
      str code = {0};
      size_t start = i;
      int depth = 0, in_comment = 0;
      for (;;) {
        int ended = scan_decl(lines[i], &depth, &in_comment);
        str_add(&code, lines[i]);
        i++;
        if (ended || i >= n)
          break;
        str_addc(&code, '\n');
      }
      if (depth != 0 || in_comment)
        die("%s:%zu: unbalanced declaration", hd->path, start + 1);
      {
        /* A forward declaration of a system type (struct addrinfo;) is
         * not part of the reference. */
        char *sq = squeeze(code.p);
        int system_type = strncmp(sq, "struct ", 7) == 0 &&
                          strchr(sq, '{') == NULL &&
                          strncmp(sq + 7, "gust_", 5) != 0;
        free(sq);
        if (system_type) {
          free(code.p);
          continue;
        }
      }
      declare(code.p, h, add_decl(hd, code.p, &pending, in_group, start));
      free(code.p);
      in_group = 1;
    }
  }
  if (pending)
    add_entry(hd, E_PROSE, NULL, pending, pending_line);
  if (hd->intro == NULL)
    die("%s: no file comment at the top", hd->path);
  free(guard);
  for (i = 0; i < n; i++)
    free(lines[i]);
  free(lines);
}

static void report_undocumented(void) {
  size_t h, e, s;
  for (h = 0; h < n_headers; h++)
    for (e = 0; e < headers[h].n_entries; e++) {
      entry *en = &headers[h].entries[e];
      if (en->type != E_DECL || !blank_line(en->doc))
        continue;
      for (s = 0; s < n_symbols; s++)
        if (symbols[s].header == (int)h && symbols[s].entry == (int)e &&
            symbols[s].kind != K_CONST) {
          fprintf(stderr, "undocumented: %s:%d: %s\n", headers[h].path,
                  en->line, symbols[s].name);
          undocumented++;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Comment text structure                                              */
/* ------------------------------------------------------------------ */

/* A comment is a list of blocks: paragraphs, list items and code.
 * B_MORE is no block: it marks a line continuing the open list item. */
enum { B_PARA, B_ITEM, B_CODE, B_MORE };
typedef struct block {
  int type;
  char *text;
} block;

/* Ends the open block of type `type`: its text (trailing newlines cut)
 * becomes the next block of *b. */
static void close_block(block **b, size_t *n, int type, str *acc) {
  size_t l = acc->len;
  while (l > 0 && acc->p[l - 1] == '\n')
    acc->p[--l] = '\0';
  acc->len = l;
  *b = xrealloc(*b, (*n + 1) * sizeof **b);
  (*b)[*n].type = type;
  (*b)[*n].text = str_take(acc);
  (*n)++;
}

static block *split_blocks(const char *doc, size_t *n_out) {
  block *b = NULL;
  size_t n = 0;
  const char *p = doc;
  int cur = -1; /* type of the open block, -1 = none */
  int item_indent = 0;
  str acc = {0};
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    char *line = xstrndup(p, len);
    int indent = 0, type;
    while (line[indent] == ' ')
      indent++;
    if (line[indent] == '\0') {
      type = -1;
    } else if ((line[indent] == '-' || line[indent] == '*') &&
               line[indent + 1] == ' ') {
      type = B_ITEM;
    } else if (cur == B_ITEM && indent > item_indent) {
      type = B_MORE;
    } else if (indent >= 2) {
      type = B_CODE;
    } else {
      type = B_PARA;
    }
    if (type == -1 && cur == B_CODE) {
      str_addc(&acc, '\n');
    } else if (type == -1 || type == B_ITEM ||
               (type != cur && type != B_MORE)) {
      if (cur >= 0)
        close_block(&b, &n, cur, &acc);
      cur = -1;
      if (type == B_ITEM) {
        item_indent = indent;
        str_add(&acc, line + indent + 2);
        cur = B_ITEM;
      } else if (type == B_CODE) {
        str_add(&acc, line);
        cur = B_CODE;
      } else if (type == B_PARA) {
        str_add(&acc, line + indent);
        cur = B_PARA;
      }
    } else if (type == B_CODE) {
      str_addc(&acc, '\n');
      str_add(&acc, line);
    } else {
      str_addc(&acc, ' ');
      str_add(&acc, line + indent);
    }
    free(line);
    p = nl ? nl + 1 : p + len;
  }
  if (cur >= 0)
    close_block(&b, &n, cur, &acc);
  /* Code blocks keep their common indentation out. */
  {
    size_t i;
    for (i = 0; i < n; i++) {
      if (b[i].type == B_CODE) {
        int min = 1000;
        const char *q = b[i].text;
        str out = {0};
        while (*q) {
          int k = 0;
          while (q[k] == ' ')
            k++;
          if (q[k] != '\n' && q[k] != '\0' && k < min)
            min = k;
          q = strchr(q, '\n');
          if (!q)
            break;
          q++;
        }
        q = b[i].text;
        while (*q) {
          const char *e = strchr(q, '\n');
          size_t l = e ? (size_t)(e - q) : strlen(q);
          if (l > (size_t)min)
            str_addn(&out, q + min, l - (size_t)min);
          if (e)
            str_addc(&out, '\n');
          q += l + (e ? 1 : 0);
        }
        free(b[i].text);
        b[i].text = str_take(&out);
      }
    }
  }
  *n_out = n;
  return b;
}

static void free_blocks(block *b, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    free(b[i].text);
  free(b);
}

/* First sentence of a text, white space squeezed. */
static char *first_sentence(const char *text) {
  char *s = squeeze(text);
  char *p = s;
  while ((p = strchr(p, '.')) != NULL) {
    if (p[1] == '\0' || p[1] == ' ') {
      p[0] = '\0';
      break;
    }
    p++;
  }
  return s;
}

/* Copies a declaration with the padding before line-continuation
 * backslashes (aligned at column 80 by the formatter) cut to one space. */
static char *unpad(const char *code) {
  str out = {0};
  const char *p = code;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    if (len > 0 && p[len - 1] == '\\') {
      size_t k = len - 1;
      while (k > 0 && p[k - 1] == ' ')
        k--;
      str_addn(&out, p, k);
      str_add(&out, " \\");
    } else {
      str_addn(&out, p, len);
    }
    if (nl)
      str_addc(&out, '\n');
    p += len + (nl ? 1 : 0);
  }
  return str_take(&out);
}

/* ------------------------------------------------------------------ */
/* HTML                                                                */
/* ------------------------------------------------------------------ */

static const char *version = "";

static FILE *open_out(const char *dir, const char *name) {
  str path = {0};
  FILE *f;
  str_add(&path, dir);
  str_addc(&path, '/');
  str_add(&path, name);
  f = fopen(path.p, "w");
  if (f == NULL)
    die("%s: %s", path.p, strerror(errno));
  free(path.p);
  return f;
}

static void close_out(FILE *f, const char *name) {
  if (ferror(f) || fclose(f) != 0)
    die("%s: write error", name);
}

static void html_esc(FILE *f, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    switch (s[i]) {
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '&':
      fputs("&amp;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    default:
      fputc(s[i], f);
    }
  }
}

/* Writes text escaped, with every known symbol linked to its entry (except
 * the ones declared by entry `self` of header `h`). */
static void html_linked(FILE *f, const char *s, int h, int self) {
  const char *p = s;
  while (*p) {
    if (is_ident_start((unsigned char)*p) && (p == s || !is_ident(p[-1]))) {
      size_t n = ident_at(p);
      int k = find_symbol(p, n);
      if (k >= 0 && strcmp(symbols[k].name, "GUST_EXTERN") != 0 &&
          !(symbols[k].header == h && symbols[k].entry == self)) {
        fputs("<a href=\"", f);
        if (symbols[k].header != h)
          fprintf(f, "%s.html", headers[symbols[k].header].stem);
        fprintf(f, "#%s\">", symbols[k].name);
        html_esc(f, p, n);
        fputs("</a>", f);
      } else {
        html_esc(f, p, n);
      }
      p += n;
      continue;
    }
    html_esc(f, p, 1);
    p++;
  }
}

/* Prose: `code` spans become <code>, symbols become links. */
static void html_prose(FILE *f, const char *s, int h) {
  const char *p = s;
  while (*p) {
    const char *tick = strchr(p, '`');
    const char *close = tick ? strchr(tick + 1, '`') : NULL;
    if (!tick || !close) {
      html_linked(f, p, h, -1);
      return;
    }
    {
      char *before = xstrndup(p, (size_t)(tick - p));
      char *inside = xstrndup(tick + 1, (size_t)(close - tick - 1));
      html_linked(f, before, h, -1);
      fputs("<code>", f);
      html_linked(f, inside, h, -1);
      fputs("</code>", f);
      free(before);
      free(inside);
    }
    p = close + 1;
  }
}

static void html_doc(FILE *f, const char *doc, int h) {
  size_t n, i;
  block *b = split_blocks(doc, &n);
  int in_list = 0;
  for (i = 0; i < n; i++) {
    if (b[i].type == B_ITEM && !in_list) {
      fputs("<ul>\n", f);
      in_list = 1;
    } else if (b[i].type != B_ITEM && in_list) {
      fputs("</ul>\n", f);
      in_list = 0;
    }
    if (b[i].type == B_CODE) {
      fputs("<pre class=\"example\">", f);
      html_linked(f, b[i].text, h, -1);
      fputs("</pre>\n", f);
    } else {
      fputs(b[i].type == B_ITEM ? "<li>" : "<p>", f);
      html_prose(f, b[i].text, h);
      fputs(b[i].type == B_ITEM ? "</li>\n" : "</p>\n", f);
    }
  }
  if (in_list)
    fputs("</ul>\n", f);
  free_blocks(b, n);
}

static const char css[] =
    "body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;"
    "color:#1d1d1f;background:#fdfdfd;max-width:52rem;margin:0 auto;"
    "padding:1rem 1.5rem 4rem}\n"
    "nav{font-size:.9rem;border-bottom:1px solid #ddd;padding-bottom:.5rem}\n"
    "h1{font-size:1.6rem;margin:1.2rem 0 .6rem}\n"
    "h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #e4e4e4;"
    "padding-bottom:.2rem}\n"
    "a{color:#0b5cad;text-decoration:none}a:hover{text-decoration:underline}\n"
    "code,pre{font:14px/1.45 ui-monospace,'DejaVu Sans Mono',Menlo,"
    "monospace}\n"
    "pre{overflow-x:auto;padding:.6rem .8rem;border-radius:4px}\n"
    "pre.decl{background:#f3f5f8;border-left:3px solid #0b5cad;margin:0}\n"
    "pre.example{background:#f7f7f7}\n"
    ".entry{margin:1.4rem 0}\n.entry .doc{margin:.3rem 0 0 1rem}\n"
    ".entry .doc p{margin:.4rem 0}\n"
    ".kind{color:#777;font-size:.85rem}\n"
    "ul.symbols{columns:2;list-style:none;padding-left:0}\n"
    "ul.symbols li{break-inside:avoid}\n"
    "table{border-collapse:collapse}td{padding:.2rem .8rem .2rem 0;"
    "vertical-align:top}\n";

static void html_head(FILE *f, const char *title) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8"
        "\">\n<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\">\n<title>",
        f);
  html_esc(f, title, strlen(title));
  fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", css);
}

static void write_html_header(const char *dir, int h) {
  header *hd = &headers[h];
  str name = {0}, title = {0};
  FILE *f;
  size_t e, s;
  int section = 0;
  str_add(&name, hd->stem);
  str_add(&name, ".html");
  str_add(&title, "gust/");
  str_add(&title, hd->file);
  str_add(&title, " \xe2\x80\x94 gust API reference");
  f = open_out(dir, name.p);
  html_head(f, title.p);
  fprintf(f,
          "<nav><a href=\"index.html\">gust %s API reference</a> "
          "&rsaquo; gust/%s</nav>\n",
          version, hd->file);
  fprintf(f, "<h1><code>#include &lt;gust/%s&gt;</code></h1>\n", hd->file);
  fputs("<div class=\"intro\">\n", f);
  html_doc(f, hd->intro, h);
  fputs("</div>\n", f);
  for (e = 0; e < hd->n_entries; e++) {
    entry *en = &hd->entries[e];
    if (en->type == E_SECTION) {
      char *t = squeeze(en->doc);
      fprintf(f, "<h2 id=\"section-%d\">", ++section);
      html_esc(f, t, strlen(t));
      fputs("</h2>\n", f);
      free(t);
    } else if (en->type == E_PROSE) {
      fputs("<div class=\"prose\">\n", f);
      html_doc(f, en->doc, h);
      fputs("</div>\n", f);
    } else {
      int first = 1;
      fputs("<div class=\"entry\"", f);
      for (s = 0; s < n_symbols; s++) {
        if (symbols[s].header != h || symbols[s].entry != (int)e)
          continue;
        if (first)
          fprintf(f, " id=\"%s\">\n", symbols[s].name);
        else
          fprintf(f, "<span id=\"%s\"></span>", symbols[s].name);
        first = 0;
      }
      if (first)
        fputs(">\n", f);
      char *code = unpad(en->code);
      fputs("<pre class=\"decl\">", f);
      html_linked(f, code, h, (int)e);
      free(code);
      fputs("</pre>\n<div class=\"doc\">\n", f);
      html_doc(f, en->doc, h);
      fputs("</div>\n</div>\n", f);
    }
  }
  fputs("</body>\n</html>\n", f);
  close_out(f, name.p);
  free(name.p);
  free(title.p);
}

static int cmp_symbol(const void *a, const void *b) {
  const symbol *x = a, *y = b;
  return strcmp(x->name, y->name);
}

static void write_html_index(const char *dir) {
  FILE *f = open_out(dir, "index.html");
  symbol *sorted = xrealloc(NULL, n_symbols * sizeof *sorted);
  size_t h, s;
  str title = {0};
  str_add(&title, "gust ");
  str_add(&title, version);
  str_add(&title, " API reference");
  html_head(f, title.p);
  fputs("<h1>", f);
  html_esc(f, title.p, title.len);
  fputs("</h1>\n<p>Generated from the comments in the public headers. Every "
        "program includes <code>&lt;gust/gust.h&gt;</code> (or the headers "
        "it needs) and builds with <code>pkg-config --cflags --libs "
        "gust</code>; the Sans-IO core alone is <code>gust-proto</code>, "
        "and <code>&lt;gust/testing.h&gt;</code> is in "
        "<code>gust-testing</code>.</p>\n<h2 id=\"headers\">Headers</h2>\n"
        "<table>\n",
        f);
  for (h = 0; h < n_headers; h++) {
    char *summary = first_sentence(headers[h].intro);
    fprintf(f,
            "<tr><td><a href=\"%s.html\"><code>gust/%s</code></a></td>"
            "<td>",
            headers[h].stem, headers[h].file);
    html_esc(f, summary, strlen(summary));
    fputs("</td></tr>\n", f);
    free(summary);
  }
  fputs("</table>\n<h2 id=\"symbols\">All symbols</h2>\n<ul class=\"symbols"
        "\">\n",
        f);
  memcpy(sorted, symbols, n_symbols * sizeof *sorted);
  qsort(sorted, n_symbols, sizeof *sorted, cmp_symbol);
  for (s = 0; s < n_symbols; s++) {
    fprintf(f,
            "<li><a href=\"%s.html#%s\"><code>%s</code></a> <span "
            "class=\"kind\">%s, %s</span></li>\n",
            headers[sorted[s].header].stem, sorted[s].name, sorted[s].name,
            kind_name[sorted[s].kind], headers[sorted[s].header].file);
  }
  fputs("</ul>\n</body>\n</html>\n", f);
  close_out(f, "index.html");
  free(sorted);
  free(title.p);
}

/* ------------------------------------------------------------------ */
/* Man pages                                                           */
/* ------------------------------------------------------------------ */

/* Writes text for roff: backslashes and non-ASCII characters escaped,
 * hyphens as minus signs when `code` is set, and a line never starts with
 * a control character. */
static void roff_esc(FILE *f, const char *s, int code) {
  const unsigned char *p = (const unsigned char *)s;
  int bol = 1;
  while (*p) {
    if (bol && (*p == '.' || *p == '\''))
      fputs("\\&", f);
    bol = 0;
    if (*p == '\\') {
      fputs("\\e", f);
    } else if (*p == '-' && code) {
      fputs("\\-", f);
    } else if (*p == '\n') {
      fputc('\n', f);
      bol = 1;
    } else if (*p < 0x80) {
      fputc(*p, f);
    } else {
      unsigned long cp = 0;
      int extra = 0;
      if ((*p & 0xe0) == 0xc0) {
        cp = *p & 0x1f;
        extra = 1;
      } else if ((*p & 0xf0) == 0xe0) {
        cp = *p & 0x0f;
        extra = 2;
      } else if ((*p & 0xf8) == 0xf0) {
        cp = *p & 0x07;
        extra = 3;
      }
      while (extra-- > 0 && (p[1] & 0xc0) == 0x80) {
        p++;
        cp = (cp << 6) | (*p & 0x3f);
      }
      if (cp >= 0x80)
        fprintf(f, "\\[u%04lX]", cp);
      else
        fputc('?', f);
    }
    p++;
  }
}

/* Prose for roff: `code` spans in bold. */
static void roff_prose(FILE *f, const char *s) {
  const char *p = s;
  while (*p) {
    const char *tick = strchr(p, '`');
    const char *close = tick ? strchr(tick + 1, '`') : NULL;
    char *part;
    if (!tick || !close) {
      roff_esc(f, p, 0);
      return;
    }
    part = xstrndup(p, (size_t)(tick - p));
    roff_esc(f, part, 0);
    free(part);
    part = xstrndup(tick + 1, (size_t)(close - tick - 1));
    fputs("\\fB", f);
    roff_esc(f, part, 1);
    fputs("\\fR", f);
    free(part);
    p = close + 1;
  }
}

static void roff_doc(FILE *f, const char *doc) {
  size_t n, i;
  block *b = split_blocks(doc, &n);
  for (i = 0; i < n; i++) {
    if (b[i].type == B_CODE) {
      fputs(".PP\n.RS 4\n.nf\n", f);
      roff_esc(f, b[i].text, 1);
      fputs("\n.fi\n.RE\n", f);
    } else if (b[i].type == B_ITEM) {
      fputs(".IP \\(bu 2\n", f);
      roff_prose(f, b[i].text);
      fputc('\n', f);
    } else {
      fputs(".PP\n", f);
      roff_prose(f, b[i].text);
      fputc('\n', f);
    }
  }
  free_blocks(b, n);
}

static void upper(FILE *f, const char *s) {
  for (; *s; s++)
    fputc(toupper((unsigned char)*s), f);
}

static void write_man_header(const char *dir, int h) {
  header *hd = &headers[h];
  str name = {0};
  FILE *f;
  size_t e;
  char *summary = first_sentence(hd->intro);
  int testing = strcmp(hd->stem, "testing") == 0;
  str_add(&name, "gust_");
  str_add(&name, hd->stem);
  str_add(&name, ".3");
  f = open_out(dir, name.p);
  fputs(".TH GUST_", f);
  upper(f, hd->stem);
  fprintf(f, " 3 \"\" \"gust %s\" \"gust API reference\"\n", version);
  fprintf(f, ".SH NAME\ngust_%s \\- ", hd->stem);
  roff_esc(f, summary, 0);
  fprintf(f,
          "\n.SH SYNOPSIS\n.nf\n.B #include <gust/%s>\n.fi\n.PP\n"
          "Compile and link with\n.BR \"pkg\\-config \\-\\-cflags "
          "\\-\\-libs %s\" .\n",
          hd->file, testing ? "gust\\-testing" : "gust");
  fputs(".SH DESCRIPTION\n", f);
  roff_doc(f, hd->intro);
  for (e = 0; e < hd->n_entries; e++) {
    entry *en = &hd->entries[e];
    if (en->type == E_SECTION) {
      char *t = squeeze(en->doc);
      fputs(".SH \"", f);
      {
        char *q;
        for (q = t; *q; q++)
          if (*q == '"')
            *q = '\'';
      }
      roff_esc(f, t, 0);
      fputs("\"\n", f);
      free(t);
    } else if (en->type == E_PROSE) {
      roff_doc(f, en->doc);
    } else {
      char *code = unpad(en->code);
      fputs(".PP\n.nf\n.ft B\n", f);
      roff_esc(f, code, 1);
      free(code);
      fputs("\n.ft R\n.fi\n.RS 4\n", f);
      roff_doc(f, en->doc);
      fputs(".RE\n", f);
    }
  }
  fputs(".SH SEE ALSO\n.BR gust (3)\n", f);
  close_out(f, name.p);
  free(name.p);
  free(summary);
}

static void write_man_index(const char *dir) {
  FILE *f = open_out(dir, "gust.3");
  size_t h;
  fprintf(f, ".TH GUST 3 \"\" \"gust %s\" \"gust API reference\"\n", version);
  fputs(".SH NAME\ngust \\- Tornado's protocol stack in C\n"
        ".SH SYNOPSIS\n.nf\n.B #include <gust/gust.h>\n.fi\n.PP\n"
        "Compile and link with\n"
        ".BR \"pkg\\-config \\-\\-cflags \\-\\-libs gust\" ;\n"
        "the Sans\\-IO protocol core alone is\n.BR gust\\-proto ,\n"
        "and the testing helpers are\n.BR gust\\-testing .\n"
        ".SH DESCRIPTION\n"
        "gust brings the protocol stack of Tornado to C: Sans\\-IO state "
        "machines for HTTP/1.1 and WebSocket, an event loop over libuv or "
        "libev, futures, streams, TCP and TLS, an HTTP server and client, "
        "WebSockets and a web layer.\nEach public header has its own page:\n",
        f);
  for (h = 0; h < n_headers; h++) {
    char *summary;
    if (strcmp(headers[h].stem, "gust") == 0)
      continue;
    summary = first_sentence(headers[h].intro);
    fprintf(f, ".TP\n.BR gust_%s (3)\n", headers[h].stem);
    fprintf(f, "\\fB<gust/%s>\\fR: ", headers[h].file);
    roff_esc(f, summary, 0);
    fputc('\n', f);
    free(summary);
  }
  fputs(".SH SEE ALSO\n", f);
  {
    const char *sep = "";
    for (h = 0; h < n_headers; h++) {
      if (strcmp(headers[h].stem, "gust") == 0)
        continue;
      fprintf(f, "%s.BR gust_%s (3)", sep, headers[h].stem);
      sep = " ,\n";
    }
    fputs("\n", f);
  }
  close_out(f, "gust.3");
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

/* mkdir -p */
static void make_dir(const char *dir) {
  char *p = xstrdup(dir), *q;
  for (q = p + 1; *q; q++) {
    if (*q != '/')
      continue;
    *q = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
      die("%s: %s", p, strerror(errno));
    *q = '/';
  }
  if (mkdir(p, 0777) != 0 && errno != EEXIST)
    die("%s: %s", p, strerror(errno));
  free(p);
}

static void usage(void) {
  fputs("usage: gust-apiref [--html DIR] [--man DIR] [--version V] "
        "[--strict] header.h...\n",
        stderr);
  exit(1);
}

int main(int argc, char **argv) {
  const char *html = NULL, *man = NULL;
  int i;
  size_t h;
  for (i = 1; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--html") == 0 && i + 1 < argc)
      html = argv[++i];
    else if (strcmp(argv[i], "--man") == 0 && i + 1 < argc)
      man = argv[++i];
    else if (strcmp(argv[i], "--version") == 0 && i + 1 < argc)
      version = argv[++i];
    else if (strcmp(argv[i], "--strict") == 0)
      strict = 1;
    else
      usage();
  }
  if (i >= argc)
    usage();
  n_headers = (size_t)(argc - i);
  headers = xrealloc(NULL, n_headers * sizeof *headers);
  memset(headers, 0, n_headers * sizeof *headers);
  for (h = 0; h < n_headers; h++) {
    const char *path = argv[i + (int)h];
    const char *base = strrchr(path, '/');
    size_t len;
    base = base ? base + 1 : path;
    len = strlen(base);
    if (len < 3 || strcmp(base + len - 2, ".h") != 0)
      die("%s: not a header", path);
    headers[h].path = xstrdup(path);
    headers[h].file = xstrdup(base);
    headers[h].stem = xstrndup(base, len - 2);
  }
  for (h = 0; h < n_headers; h++)
    parse_header(&headers[h], (int)h);
  if (html) {
    make_dir(html);
    for (h = 0; h < n_headers; h++)
      write_html_header(html, (int)h);
    write_html_index(html);
  }
  if (man) {
    make_dir(man);
    for (h = 0; h < n_headers; h++)
      if (strcmp(headers[h].stem, "gust") != 0) /* gust.3 covers gust.h */
        write_man_header(man, (int)h);
    write_man_index(man);
  }
  report_undocumented();
  if (undocumented > 0) {
    fprintf(stderr, "gust-apiref: %d declaration(s) without a comment\n",
            undocumented);
    if (strict)
      return 2;
  }
  return 0;
}
