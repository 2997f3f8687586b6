## future module (futures, locks, queues, executor): sources, header, tests.
