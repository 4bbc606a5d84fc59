"""The registry of document generators: every (kind, format) a trade's documents come in."""

from __future__ import annotations

from ismit.documents.generators.base import Generator

_REGISTRY: dict[tuple[str, str], Generator] = {}
_loaded = False


def register(generator: Generator) -> Generator:
    key = (generator.kind, generator.format)
    if key in _REGISTRY:
        raise ValueError(f"two generators for {key}")
    _REGISTRY[key] = generator
    return generator


def _load() -> None:
    # Each module registers its generators on import. Always called: a module imported earlier (say by a
    # test) is not run again, and the registry is complete even when one module was imported first.
    from ismit.documents.generators import cii, dataset, edifact, pdf, wco  # noqa: F401


def all_generators() -> list[Generator]:
    _load()
    return sorted(_REGISTRY.values(), key=lambda g: (g.kind, g.format))


def get_generator(kind: str, fmt: str) -> Generator:
    _load()
    return _REGISTRY[(kind, fmt)]
