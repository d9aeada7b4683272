"""`make bench`: Sluice's engine against a raw bulk baseline, on the local server and on a
null bulk endpoint; plus peak memory of stale deletion over 100k and 1M indexed documents."""
