## Sans-IO protocol state machines (libgust-proto).
