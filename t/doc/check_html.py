"""Checks the HTML API reference against the headers it was made from.

usage: check_html.py HTML_DIR HEADER...

Prints one line per problem and exits 1 if there is any:
  undocumented NAME (FILE)   a GUST_EXTERN function with no description
  unindexed NAME             a function the index does not link to
  no-header FILE             a header the index does not list
  html FILE: MESSAGE         a page whose tags do not balance
The function list is taken from the headers here, independently of the
generator, so a generator that skipped a declaration is caught too.
"""

import os
import re
import sys
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "img", "link", "input", "wbr", "col"}


def extern_functions(path):
    """Names of the GUST_EXTERN functions declared in a header."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    # Preprocessor lines (with continuations) hold no declarations.
    text = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)
    names = []
    for decl in re.findall(r"\bGUST_EXTERN\b([^;{]*);", text):
        decl = " ".join(decl.split())
        paren = decl.find("(")
        if paren < 0:
            continue  # a variable, not a function
        m = re.search(r"([A-Za-z_]\w*)\s*$", decl[:paren])
        if m:
            names.append(m.group(1))
    return names


class Page(HTMLParser):
    """Collects ids, links, tag-balance errors and the text of each
    entry's doc block."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.errors = []
        self.ids = set()
        self.links = set()
        self.entry_ids = []  # ids of the open entry
        self.entry_docs = {}  # id -> description text
        self.in_doc = 0
        self.doc_text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in VOID:
            self.stack.append((tag, attrs.get("class")))
        if "id" in attrs:
            if attrs["id"] in self.ids:
                self.errors.append("duplicate id %s" % attrs["id"])
            self.ids.add(attrs["id"])
            if attrs.get("class") == "entry":
                self.entry_ids = [attrs["id"]]
            elif tag == "span" and self.entry_ids:
                self.entry_ids.append(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.links.add(attrs["href"])
        if tag == "div" and attrs.get("class") == "doc":
            self.in_doc = len(self.stack)
            self.doc_text = []

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack:
            self.errors.append("</%s> closes nothing" % tag)
            return
        open_tag, cls = self.stack.pop()
        if open_tag != tag:
            self.errors.append("</%s> closes <%s>" % (tag, open_tag))
        if self.in_doc and len(self.stack) < self.in_doc:
            text = " ".join("".join(self.doc_text).split())
            for i in self.entry_ids:
                self.entry_docs[i] = text
            self.in_doc = 0
        if tag == "div" and cls == "entry":
            self.entry_ids = []

    def handle_data(self, data):
        if self.in_doc:
            self.doc_text.append(data)


def parse(path):
    page = Page()
    with open(path, encoding="utf-8") as f:
        page.feed(f.read())
    page.close()
    if page.stack:
        page.errors.append(
            "unclosed at end: " + " ".join("<%s>" % t for t, _ in page.stack))
    return page


def main(argv):
    html_dir, headers = argv[1], argv[2:]
    problems = []
    pages = {}
    for name in sorted(os.listdir(html_dir)):
        if name.endswith(".html"):
            pages[name] = parse(os.path.join(html_dir, name))
            for err in pages[name].errors:
                problems.append("html %s: %s" % (name, err))
    index = pages.get("index.html")
    if index is None:
        problems.append("html index.html: missing")
        index = Page()
    checked = 0
    for header in headers:
        base = os.path.basename(header)
        stem = base[:-2]
        page_name = stem + ".html"
        if page_name not in index.links:
            problems.append("no-header %s" % base)
        page = pages.get(page_name)
        for fn in extern_functions(header):
            checked += 1
            if page is None or not page.entry_docs.get(fn):
                problems.append("undocumented %s (%s)" % (fn, base))
            if "%s#%s" % (page_name, fn) not in index.links:
                problems.append("unindexed %s" % fn)
    for p in problems:
        print(p)
    print("checked %d functions in %d headers, %d pages" %
          (checked, len(headers), len(pages)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
