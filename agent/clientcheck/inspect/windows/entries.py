"""Windows: where the registry says a browser or PDF viewer is installed. Each place is a ``Candidate``,
before the inspector merges those of one installation: the Uninstall entries (machine-wide, both
registry views, and each user's), the registrations of Google Update and EdgeUpdate with the version they
installed, and the BLBeacon of the version a user last ran."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from clientcheck.catalog import Catalog, Product
    from clientcheck.inspect.registry import Registry
    from clientcheck.model import Scope

UNINSTALL = "Microsoft\\Windows\\CurrentVersion\\Uninstall"
MACHINE_SOFTWARE = ("HKEY_LOCAL_MACHINE\\SOFTWARE", "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node")
ACROBAT_ENTITLEMENT = "Software\\Adobe\\Adobe Acrobat\\DC\\AVEntitlement"
# Release channels that follow a product's name in its Uninstall DisplayName: a separate install, judged on
# its own track ("Google Chrome Beta", "Brave Nightly", "Opera GX Stable").
CHANNELS = {"beta", "dev", "canary", "nightly", "gx", "developer", "snapshot"}
EXCLUDED_NAMES = (
    "microsoft edge webview2",
    "microsoft edge update",
    "adobe acrobat customization wizard",
    "brave update",
    "google update",
)
UNIFIED_ACROBAT = "{AC76BA86-1033-1033-7760-BC15014EA700}"  # Adobe's unified Reader/Acrobat installer


class Candidate:
    """One place that says a product is installed, before duplicates are merged."""

    __slots__ = ("gone", "location", "msi", "package", "product", "raw", "scope", "source", "track", "user")

    def __init__(
        self,
        product: Product,
        scope: Scope,
        user: str | None,
        raw: str | None,
        source: str,
        package: str | None,
        location: str | None,
        msi: bool,
        track: str | None,
    ) -> None:
        self.product, self.scope, self.user, self.raw, self.source = product, scope, user, raw, source
        self.package, self.location, self.msi, self.track = package, location, msi, track
        self.gone = False  # its folder is not on the disk


class RegistryEntries:
    """The registry's entries for the products of ``catalog``, machine-wide and for each user's hive."""

    def __init__(self, registry: Registry, catalog: Catalog) -> None:
        self.registry = registry
        self.catalog = catalog
        self.users = registry.user_roots()
        self._prefixes = sorted(
            (
                (name.lower(), product)
                for product in catalog.products.values()
                for name in product.windows.display_names
            ),
            key=lambda pair: -len(pair[0]),
        )

    def product_for(self, display_name: str) -> tuple[Product, str | None] | None:
        """The product an Uninstall DisplayName names, and its channel ("Google Chrome Beta" -> beta).
        Helpers that share a browser's name (WebView2, the updaters) are not the browser."""
        lowered = display_name.lower()
        if any(lowered.startswith(excluded) for excluded in EXCLUDED_NAMES):
            return None
        for prefix, product in self._prefixes:
            if lowered.startswith(prefix) and lowered[len(prefix) : len(prefix) + 1] in ("", " ", "("):
                following = lowered[len(prefix) :].split()
                channel = following[0] if following and following[0] in CHANNELS else None
                return product, channel
        return None

    def uninstall_keys(self) -> list[tuple[str, Scope, str | None]]:
        keys: list[tuple[str, Scope, str | None]] = [
            (f"{software}\\{UNINSTALL}", "system", None) for software in MACHINE_SOFTWARE
        ]
        keys += [(f"{root}\\Software\\{UNINSTALL}", "user", label) for label, root in self.users]
        return keys

    def candidates(self) -> list[Candidate]:
        found: list[Candidate] = []
        for key, scope, user in self.uninstall_keys():
            for name in self.registry.subkeys(key):
                entry = f"{key}\\{name}"
                display_name = self.registry.string(entry, "DisplayName")
                if display_name is None or self.registry.string(entry, "ParentKeyName"):
                    continue  # not an application, or an update of one
                matched = self.product_for(display_name)
                if matched is None:
                    continue
                product, channel = matched
                lowered = display_name.lower()
                if product.id == "acrobat" and (
                    lowered.startswith(("adobe acrobat (", "adobe acrobat dc (")) or name.upper() == UNIFIED_ACROBAT
                ):
                    product = self._unified_acrobat()
                track = channel
                if product.id == "firefox":
                    track = "esr" if " esr" in lowered else "release"
                found.append(
                    Candidate(
                        product,
                        scope,
                        user,
                        self.registry.string(entry, "DisplayVersion"),
                        "uninstall",
                        name,
                        self.registry.string(entry, "InstallLocation"),
                        self.registry.integer(entry, "WindowsInstaller") == 1,
                        track,
                    )
                )
        found += self._update_clients()
        return found

    def _unified_acrobat(self) -> Product:
        """Adobe's unified installer names itself "Adobe Acrobat (64-bit)" for Reader and Acrobat alike; the
        user's entitlement level tells them apart (300 Pro, 200 Standard; Reader has none)."""
        for _, root in self.users:
            level = self.registry.integer(f"{root}\\{ACROBAT_ENTITLEMENT}", "iEntitlementLevel")
            if level is not None and level >= 200:
                return self.catalog.products["acrobat"]
        return self.catalog.products["acrobat-reader"]

    def _update_clients(self) -> list[Candidate]:
        """Google Update and EdgeUpdate register every browser they keep current, machine-wide or per user,
        with its installed version ("pv")."""
        found = []
        for product in self.catalog.products.values():
            for client in product.windows.update_clients:
                places: list[tuple[str, Scope, str | None]] = [
                    (software, "system", None) for software in MACHINE_SOFTWARE
                ]
                places += [(f"{root}\\Software", "user", label) for label, root in self.users]
                for software, scope, user in places:
                    raw = self.registry.string(f"{software}\\{client}", "pv")
                    if raw is not None:
                        found.append(
                            Candidate(
                                product,
                                scope,
                                user,
                                raw,
                                "update client",
                                client.rsplit("\\", 1)[-1],
                                None,
                                False,
                                None,
                            )
                        )
        return found

    def beacon(self, product: Product, user_root: str) -> str | None:
        for vendor in product.windows.beacons:
            raw = self.registry.string(f"{user_root}\\Software\\{vendor}\\BLBeacon", "version")
            if raw is not None:
                return raw
        return None
