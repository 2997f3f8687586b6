## The API reference, generated from the doc comments of the public headers
## by doc/apiref/gust-apiref (a small C program, so building the reference
## needs nothing beyond the compiler): one HTML page per header plus an
## index under doc/api/html, and section 3 man pages (gust.3 and one
## gust_<header>.3 per header) under doc/api/man3. Built with `all` (it
## takes milliseconds) and by `make doc`; installed under $(htmldir)/api and
## $(mandir)/man3. t/doc/apiref.sh checks that every public function is
## documented, that the man pages lint cleanly and that the HTML is sound.
noinst_PROGRAMS += doc/apiref/gust-apiref
doc_apiref_gust_apiref_SOURCES = doc/apiref/apiref.c
doc_apiref_gust_apiref_LDADD =

# Every installed header, in the order the index lists them.
APIREF_INPUTS = $(pkginclude_HEADERS) $(nodist_pkginclude_HEADERS)

doc/api.stamp: doc/apiref/gust-apiref$(EXEEXT) $(APIREF_INPUTS)
	$(AM_V_GEN)rm -rf doc/api && list=; \
	for h in $(APIREF_INPUTS); do \
	  if test -f "$$h"; then list="$$list $$h"; \
	  else list="$$list $(srcdir)/$$h"; fi; \
	done; \
	doc/apiref/gust-apiref --version '$(PACKAGE_VERSION)' \
	  --html doc/api/html --man doc/api/man3 $$list && touch $@

doc: doc/api.stamp
all-local: doc/api.stamp
.PHONY: doc

install-data-local: doc/api.stamp
	@$(NORMAL_INSTALL)
	$(MKDIR_P) '$(DESTDIR)$(htmldir)/api' '$(DESTDIR)$(mandir)/man3'
	$(INSTALL_DATA) doc/api/html/*.html '$(DESTDIR)$(htmldir)/api'
	$(INSTALL_DATA) doc/api/man3/*.3 '$(DESTDIR)$(mandir)/man3'

# Removes exactly what install-data-local installed: the page names follow
# from the header names, so this works from a cleaned build tree too.
uninstall-local:
	@$(NORMAL_UNINSTALL)
	@for h in $(APIREF_INPUTS); do \
	  b=`basename "$$h" .h`; \
	  echo " rm -f '$(DESTDIR)$(htmldir)/api/$$b.html'"; \
	  rm -f "$(DESTDIR)$(htmldir)/api/$$b.html"; \
	  if test "$$b" != gust; then \
	    echo " rm -f '$(DESTDIR)$(mandir)/man3/gust_$$b.3'"; \
	    rm -f "$(DESTDIR)$(mandir)/man3/gust_$$b.3"; \
	  fi; \
	done
	rm -f '$(DESTDIR)$(htmldir)/api/index.html' \
	  '$(DESTDIR)$(mandir)/man3/gust.3'
	-rmdir '$(DESTDIR)$(htmldir)/api'

clean-local:
	-rm -rf doc/api
CLEANFILES += doc/api.stamp

TESTS += t/doc/apiref.sh t/doc/guide.sh
EXTRA_DIST += t/doc/apiref.sh t/doc/guide.sh t/doc/check_html.py \
	doc/guide.md
