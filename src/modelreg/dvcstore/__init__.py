"""DVC's side of a registry: pointers, cache layout, hashing, and the one module importing DVC.

Everything here but ``dvcio`` reads and writes DVC's formats without importing DVC, so a read
query never pays DVC's import cost; ``dvcio`` is the lazy boundary to DVC itself (pushing,
pulling, custom cache layouts).
"""
