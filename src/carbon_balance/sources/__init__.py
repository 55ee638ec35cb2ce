"""Real inputs for any region: ``carbon-balance fetch`` (docs/inputs.md).

The only part of carbon-balance that touches the network. Sources are rows of
``registry.csv`` (:mod:`.registry`); items are found through STAC (:mod:`.stac`), only the
windows needed are read (:mod:`.read`), 16-day composites become months
(:mod:`.composite`), and :mod:`.fetch` writes a ready study folder.
"""
