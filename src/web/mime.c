/* The Content-Type of a static file from its extension: Python's mimetypes
 * table as Tornado's StaticFileHandler sees it, built in so that nothing
 * depends on the host's /etc/mime.types. */
#include "config.h"

#include <gust/web.h>

#include <stdlib.h>
#include <string.h>

#include "base/base_int.h"

#define OCTET_STREAM "application/octet-stream"

typedef struct mime_entry {
  const char *ext; /* lowercase, without the dot */
  const char *type;
} mime_entry;

/* Sorted by extension (bsearch). Values as Python's mimetypes (3.12)
 * where it knows the extension; text types carry no charset, as there. */
static const mime_entry mime_table[] = {
    {"aac", "audio/aac"},
    {"apng", "image/apng"},
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"css", "text/css"},
    {"csv", "text/csv"},
    {"eot", "application/vnd.ms-fontobject"},
    {"flac", "audio/flac"},
    {"gif", "image/gif"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"ico", "image/vnd.microsoft.icon"},
    {"ics", "text/calendar"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript"},
    {"json", "application/json"},
    {"m4a", "audio/mp4"},
    {"map", "application/json"},
    {"md", "text/markdown"},
    {"mjs", "text/javascript"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/opus"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"rtf", "application/rtf"},
    {"svg", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain"},
    {"vtt", "text/vtt"},
    {"wasm", "application/wasm"},
    {"wav", "audio/x-wav"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml"},
    {"xml", "text/xml"},
    {"zip", "application/zip"},
};

/* Extensions Python reads as a content encoding (directly or through its
 * suffix_map: .tgz is .tar.gz ...). Tornado answers application/gzip for
 * gzip (RFC 6713) and application/octet-stream for the others. */
static const char *const gzip_exts[] = {"gz", "svgz", "taz", "tgz", "tz"};
static const char *const other_encoded_exts[] = {"br",  "bz2", "tbz2",
                                                 "txz", "xz",  "z"};

static int cmp_entry(const void *key, const void *elem) {
  return strcmp((const char *)key, ((const mime_entry *)elem)->ext);
}

static int in_list(const char *ext, const char *const *list, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (strcmp(ext, list[i]) == 0)
      return 1;
  return 0;
}

const char *gust_web_mime_type(const char *filename) {
  const char *base, *dot, *p;
  const mime_entry *e;
  char ext[16];
  size_t n, i;
  if (filename == NULL)
    return OCTET_STREAM;
  base = strrchr(filename, '/');
  base = base != NULL ? base + 1 : filename;
  /* As os.path.splitext: leading dots of the name start no extension. */
  for (p = base; *p == '.'; p++)
    ;
  dot = strrchr(p, '.');
  if (dot == NULL)
    return OCTET_STREAM;
  n = strlen(dot + 1);
  if (n == 0 || n >= sizeof(ext))
    return OCTET_STREAM;
  for (i = 0; i < n; i++)
    ext[i] = (char)gust__lower((uint8_t)dot[1 + i]);
  ext[n] = '\0';
  if (in_list(ext, gzip_exts, GUST__ARRAY_SIZE(gzip_exts)))
    return "application/gzip";
  if (in_list(ext, other_encoded_exts, GUST__ARRAY_SIZE(other_encoded_exts)))
    return OCTET_STREAM;
  e = bsearch(ext, mime_table, GUST__ARRAY_SIZE(mime_table),
              sizeof(mime_table[0]), cmp_entry);
  return e != NULL ? e->type : OCTET_STREAM;
}
