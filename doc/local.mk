## Documentation.
EXTRA_DIST += doc/design.md
