"""ringbackup — the pieces ringcache-ship and ringcache-restore share.

    resp      a small binary-safe, pipelined RESP2 client
    files     SHA-256 of file ranges, bundle tar files
    seal      authenticated encryption of bundles with age
    parts     Reed-Solomon spread of a bundle over K+M part files (zfec)
    cut       a consistent cut of a whole ring (RING CUT on every node)
    ringship  the whole-ring bundle: what it holds, building and checking it
    load      reading a node's data through a temporary ringcached and
              writing keys with RESTORE ... REPLACE ABSTTL

The scripts find this package next to themselves (the source tree's
utils/) or in ../share/ringcache/ from their own directory (installed).
Standard library only, except parts (python3-zfec) and seal (the age
command).
"""
