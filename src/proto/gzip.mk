## gzip module: streaming codec and HTTP integration: sources, header, tests, fuzz, bench.
