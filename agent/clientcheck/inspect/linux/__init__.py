"""Linux: the OS from os-release, browsers and PDF viewers from desktop entries, versions from the package
that owns them (dpkg, rpm, pacman), snap and flatpak metadata, or the application's own files. Reads
files only: no process is launched, so a ``--root`` tree is inspected exactly like the running machine.

One package, a module per job: ``osinfo`` (os-release), ``desktop`` (desktop entries, what they are, the
default PDF viewer), ``versions`` (package databases, snap, flatpak, application.ini), ``restarts`` (the
system and the programs waiting for a restart); ``LinuxInspector`` here puts them together over one
``Root``, opening each file once.
"""

from __future__ import annotations

import os

from clientcheck.inspect.fsroot import Root
from clientcheck.inspect.linux.desktop import Desktop, Home, homes_for
from clientcheck.inspect.linux.osinfo import read_os
from clientcheck.inspect.linux.restarts import boot_time, pending_restarts
from clientcheck.inspect.linux.versions import Versions
from clientcheck.model import Inventory

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from clientcheck.catalog import Catalog
    from clientcheck.inspect.processes import ProcessSource
    from clientcheck.model import Installation

__all__ = ["LinuxInspector", "inspect_linux"]


class LinuxInspector:
    """The Linux machine at ``root``. ``kernel``, ``boot_time`` and ``processes`` are the running machine's
    (its kernel release, when it started, its programs), for the pending-restart check; None for a captured
    tree, whose running kernel and processes are unknown. Tests inject recorded processes here."""

    def __init__(
        self,
        root: Root,
        catalog: Catalog,
        env: Mapping[str, str],
        *,
        homes: list[Home],
        kernel: str | None,
        boot_time: float | None = None,
        processes: ProcessSource | None = None,
    ) -> None:
        self.root = root
        self.kernel = kernel
        self.boot_time = boot_time
        self.processes = processes
        self.desktop = Desktop(root, catalog, env, homes)
        self.versions = Versions(root)

    def software(self) -> tuple[list[Installation], dict[str, str]]:
        """Every installation, and which product each installed desktop id belongs to."""
        installations: dict[tuple[str, ...], Installation] = {}
        desktop_products: dict[str, str] = {}
        for entry in self.desktop.entries():
            product = self.desktop.identify(entry)
            if product is None:
                continue
            key, installation = self.versions.installation(entry, product)
            desktop_products.setdefault(entry.desktop_id, product.id)
            previous = installations.get(key)
            # Of two entries for one installation keep the one that read a version.
            if previous is None or (previous.version is None and installation.version is not None):
                installations[key] = installation
        return list(installations.values()), desktop_products

    def inventory(self) -> Inventory:
        os_info = read_os(self.root, self.kernel)
        try:
            found, desktop_products = self.software()
            found.sort(key=lambda item: (item.category, item.product, item.scope, item.source or ""))
            software = tuple(found)
            default = self.desktop.default_pdf()
            centers = self.desktop.software_centers()
            # Taken before the restart check: a file it cannot read is no evidence of a restart either way,
            # and hides no installation.
            warnings = tuple(self.desktop.problems + self.root.problems)
            unreadable = tuple(self.root.unreadable)
            restarts = pending_restarts(
                self.root,
                os_info.id,
                software,
                kernel=self.kernel,
                boot_time=self.boot_time,
                processes=self.processes,
                databases=self.versions.databases,  # those the versions were read from, still open
            )
        finally:
            self.versions.close()
        default_product = desktop_products.get(default[0], default[0]) if default else None
        return Inventory(
            os=os_info,
            software=software,
            default_pdf=default_product,
            default_pdf_source=default[1] if default else None,
            warnings=warnings,
            restarts=restarts,
            unreadable=unreadable,
            software_centers=centers,
        )


def inspect_linux(base: str, env: Mapping[str, str], *, live: bool) -> Inventory:
    """The Linux machine at ``base``: the running one when ``live`` (its kernel and processes are then
    looked at too), else a captured tree."""
    from clientcheck.catalog import load_catalog

    root = Root(base)
    kernel: str | None = None
    started: float | None = None
    processes: ProcessSource | None = None
    if live:
        from clientcheck.inspect.processes import ProcProcesses

        kernel = os.uname().release if hasattr(os, "uname") else None
        started = boot_time()
        processes = ProcProcesses()
    homes = homes_for(root, env, live=live)
    inspector = LinuxInspector(
        root, load_catalog("linux"), env, homes=homes, kernel=kernel, boot_time=started, processes=processes
    )
    return inspector.inventory()
