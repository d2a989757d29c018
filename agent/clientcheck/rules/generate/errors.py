"""What goes wrong in ``rules generate``: a feed, the policy, or the result. Each is one line for the user,
and never a half-written rule file."""

from __future__ import annotations

from clientcheck.errors import ClientcheckError, ExitStatus


class FeedError(ClientcheckError):
    """A feed that could not be fetched, or whose body is not what the vendor publishes: names the URL."""

    exit_status = ExitStatus.INPUT

    def __init__(self, url: str, reason: str, *, feed: str | None = None) -> None:
        self.url = url
        self.reason = reason
        self.feed = feed
        prefix = f"{feed} feed: " if feed else ""
        super().__init__(
            f"{prefix}{url}: {reason}", hint="no rule file was written; mark the feed optional to go on without it"
        )

    def naming(self, feed: str) -> FeedError:
        return self if self.feed else FeedError(self.url, self.reason, feed=feed)


class PolicyError(ClientcheckError):
    """A policy file that cannot be used; ``problems`` lists each, with its location."""

    exit_status = ExitStatus.USAGE

    def __init__(self, source: str, problems: list[str]) -> None:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{source}: {problems[0]}{more}")
        self.problems = problems


class GenerateError(ClientcheckError):
    """The feeds were read but no trustworthy rule file results (a minimum would go down, a bug)."""

    exit_status = ExitStatus.RULES_INVALID
