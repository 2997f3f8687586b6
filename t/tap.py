"""TAP for gust's Python test peers (the counterpart of t/tap.h).

    import tap
    tap.ok(cond, "name", diag)     # one "ok N - name" / "not ok N - name"
    sys.exit(tap.done())           # prints the plan; 1 on a failure or none

tap.start(n) continues the numbering after n checks that a shell wrapper
already printed.
"""
import sys

count = 0
failures = 0


def start(n):
    """Continues the numbering after `n` checks printed elsewhere."""
    global count
    count = n


def ok(cond, name, diag=None):
    """Prints one check; `diag` (any object) is shown as comments on a
    failure, at most 20 lines. Returns the condition as a bool."""
    global count, failures
    count += 1
    cond = bool(cond)
    if not cond:
        failures += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (count, name))
    if not cond and diag is not None:
        for line in str(diag).splitlines()[:20]:
            print("# " + line)
    sys.stdout.flush()
    return cond


def diag(msg):
    """Prints a comment line."""
    print("# " + str(msg))
    sys.stdout.flush()


def done():
    """Prints the plan and returns the exit status: 1 when a check failed
    or none ran."""
    print("1..%d" % count)
    sys.stdout.flush()
    return 1 if failures or count == 0 else 0
