## Example programs (built, not installed).
