"""One way to register the engine's plug-ins: export types, providers and file formats.

Each kind is a package with one module per plug-in; the module decorates its class with the package's
``register``. Every module of the package is imported on first use, so adding a type, a provider or a
format is adding one module, nothing else.
"""
import importlib
import pkgutil


class Registry:
    """The plug-ins of one package, by key. ``key``: the class attribute that names a plug-in;
    ``make``: what is kept for a class (the class itself, or one instance); ``unknown(key)``: the
    exception for a key nobody registered; ``order``: keys listed first, in this order (then by key)."""

    def __init__(self, package, *, key="key", make=None, unknown=KeyError, order=()):
        self.package = package
        self.key = key
        self.make = make or (lambda cls: cls)
        self.unknown = unknown
        self.order = tuple(order)
        self._items = {}
        self._loaded = False

    def register(self, cls):
        """Class decorator: make ``cls`` available under its key."""
        self._items[getattr(cls, self.key)] = self.make(cls)
        return cls

    def unregister(self, key):
        self._items.pop(key, None)

    def _load(self):
        if self._loaded:
            return
        package = importlib.import_module(self.package)
        for info in pkgutil.iter_modules(package.__path__):
            if info.name != "base":
                importlib.import_module(f"{self.package}.{info.name}")
        self._loaded = True

    def get(self, key):
        self._load()
        try:
            return self._items[key]
        except KeyError:
            raise self.unknown(key) from None

    def keys(self):
        self._load()
        rank = {key: i for i, key in enumerate(self.order)}
        return sorted(self._items, key=lambda key: (rank.get(key, len(rank)), key))

    def all(self):
        return [self._items[key] for key in self.keys()]
