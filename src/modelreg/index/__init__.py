"""``registry.yaml``: the reviewable index and the desired stage map.

- :mod:`.header` reads ``stages:`` alone, cheaply (``list`` needs nothing else);
- :mod:`.schema` is the file's shape, as pydantic models;
- :mod:`.parse` turns text into a validated :class:`~.schema.Index`, or one line of error;
- :mod:`.lines` finds the line of a YAML node, for those errors and for ``check``;
- :mod:`.layout` splits the text into header, per-model blocks and tail;
- :mod:`.serialise` writes the stable text; :mod:`.files` reads and replaces files safely;
- :mod:`.editor` is the partial editor every write uses;
- :mod:`.entries` maps registration records and tags to index entries;
- :mod:`.schemafile` is the JSON Schema editors validate the file with.

Importing this package imports nothing: read queries import :mod:`.header` and must not pay
for pydantic.
"""
