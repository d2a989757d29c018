"""The product catalog: which products exist and where each is found. The data is ``data/catalog.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional, cast

from clientcheck.model import Category

_CATALOG_FILE = Path(__file__).resolve().parent / "data" / "catalog.json"


@dataclass(frozen=True)
class LinuxPlaces:
    desktop_ids: tuple[str, ...] = ()
    packages: dict[str, Optional[str]] = field(default_factory=dict)  # package -> track
    flatpaks: dict[str, Optional[str]] = field(default_factory=dict)  # app id -> track
    snaps: dict[str, Optional[str]] = field(default_factory=dict)  # snap name -> track
    executables: tuple[str, ...] = ()
    app_dirs: tuple[str, ...] = ()
    version_package: Optional[str] = None


@dataclass(frozen=True)
class Product:
    id: str
    category: Category
    name: str
    default_track: Optional[str]
    track_names: dict[str, str]
    linux: LinuxPlaces

    def display_name(self, track: Optional[str]) -> str:
        return self.track_names.get(track or "", self.name)


@dataclass(frozen=True)
class Catalog:
    products: dict[str, Product]

    @property
    def linux_desktop_ids(self) -> dict[str, Product]:
        return {desktop_id: p for p in self.products.values() for desktop_id in p.linux.desktop_ids}

    def by_executable(self, name: str) -> Optional[Product]:
        for product in self.products.values():
            if name in product.linux.executables:
                return product
        return None

    def by_flatpak(self, app_id: str) -> Optional[Product]:
        for product in self.products.values():
            if app_id in product.linux.flatpaks:
                return product
        return None

    def by_snap(self, snap: str) -> Optional[Product]:
        for product in self.products.values():
            if snap in product.linux.snaps:
                return product
        return None


def _linux(raw: dict[str, Any]) -> LinuxPlaces:
    return LinuxPlaces(
        desktop_ids=tuple(raw.get("desktop_ids", ())),
        packages=dict(raw.get("packages", {})),
        flatpaks=dict(raw.get("flatpaks", {})),
        snaps=dict(raw.get("snaps", {})),
        executables=tuple(raw.get("executables", ())),
        app_dirs=tuple(raw.get("app_dirs", ())),
        version_package=raw.get("version_package"),
    )


def parse_catalog(document: dict[str, Any]) -> Catalog:
    products = {
        product_id: Product(
            id=product_id,
            category=cast(Category, raw["category"]),
            name=raw["name"],
            default_track=raw.get("default_track"),
            track_names=dict(raw.get("track_names", {})),
            linux=_linux(raw.get("linux", {})),
        )
        for product_id, raw in document["products"].items()
    }
    return Catalog(products)


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    with _CATALOG_FILE.open("rb") as stream:
        return parse_catalog(json.load(stream))
