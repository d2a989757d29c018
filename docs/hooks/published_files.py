"""mkdocs hook: publish with the site the files the pages point readers to, taken from where the project
keeps them (the JSON Schemas and bundled rules in the agent's data folder, the example rule file and
generator policy in rules/), never from copies in docs/ that could drift from them.

They appear in the site under ``schemas/`` and ``examples/``, so pages link to them as to any other file
and ``mkdocs build --strict`` checks those links like the rest.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File, Files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

REPOSITORY = Path(__file__).resolve().parents[2]
DATA = REPOSITORY / "agent" / "clientcheck" / "data"

# Where each appears in the site: its file in the repository.
PUBLISHED = {
    "schemas/report.schema.json": DATA / "report.schema.json",
    "schemas/inventory.schema.json": DATA / "inventory.schema.json",
    "schemas/rules.schema.json": DATA / "rules.schema.json",
    "examples/default-rules.json": DATA / "default-rules.json",
    "examples/design-example.json": REPOSITORY / "rules" / "examples" / "design-example.json",
    "examples/policy.example.json": REPOSITORY / "rules" / "policy.example.json",
}


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for uri, source in PUBLISHED.items():
        if not source.is_file():
            raise FileNotFoundError(f"{source}: published with the documentation, but not in the repository")
        files.append(File.generated(config, uri, abs_src_path=str(source)))
    return files
