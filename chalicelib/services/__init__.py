"""Use cases: load through a store, decide through the domain, commit through the store.

Services take their stores, WeChat adapters and clock as arguments (``Deps``, built in
``chalicelib.bootstrap``, which they import for typing only), so they import no I/O library
themselves and tests choose what backs them.
"""
