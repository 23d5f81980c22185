"""The registry as web pages: ``modelreg site`` writes them as static files and ``modelreg ui``
serves them on 127.0.0.1.  Both render the records of the same library calls as the CLI
(:mod:`modelreg.site.data`) with the same templates (:mod:`modelreg.site.pages`).

Nothing here imports DVC: like ``show`` and ``history``, the pages read tags only.
"""
