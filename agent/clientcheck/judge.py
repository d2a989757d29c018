"""Judging one machine: the pipeline's middle. Load the rules the settings name, evaluate the inventory by
them as of a day, and build the ``Report`` every output is rendered from.

The commands ``check`` and ``login`` call it; the environment and the clock are given (``cli.main`` is
the one place that reads them), so a test judges as of any day, in any environment.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from clientcheck import dates as dt
    from clientcheck.config import Settings
    from clientcheck.model import Inventory, Report


def judge(
    inventory: Inventory,
    settings: Settings,
    env: Mapping[str, str],
    now: dt.datetime,
    warn: Callable[[str], None],
    as_of: dt.date | None = None,
    interface_languages: Callable[[], Iterable[str]] | None = None,
) -> Report:
    """The report on ``inventory`` by the rules in force, as of ``as_of`` (default: ``now``'s day, in the
    zone ``now`` is given in: ``cli.main`` gives the machine's local time, the person's "today"). What the
    reader should know about the rules (a fallback, a stale cache) or the language asked for goes to
    ``warn``; ``interface_languages`` gives the user's desktop languages where the environment names none
    (Windows, macOS)."""
    from clientcheck.evaluate import evaluate
    from clientcheck.language import catalog_languages, choose_language
    from clientcheck.model import Report
    from clientcheck.rules import load_rules

    today = as_of or now.date()
    loaded = load_rules(
        settings["rules.source"],
        today,
        now=now,
        env=env,  # the rules cache and the rollback floor's folders, unless it names its own
        key=settings["rules.key"],
        ca_bundle=settings["rules.ca_bundle"],
        named=settings.origins["rules.source"].level == "command line",
    )
    for warning in loaded.warnings:
        warn(warning)
    language = choose_language(settings["report.language"], env, catalog_languages, warn, interface_languages)
    findings = evaluate(inventory, loaded.ruleset, today, language)
    return Report(
        generated_at=now, inventory=inventory, findings=findings, rules=loaded.info, language=language, as_of=today
    )
