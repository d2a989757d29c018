"""``clientcheck rules …``: the publisher's commands. ``validate`` a rule file; ``keygen``, ``sign`` and
``verify`` in the formats the real ``minisign`` command reads and writes, so a publisher needs no other tool
(and may use minisign); ``generate`` a rule file from the vendors' feeds; ``export`` one as another tool's
rules."""

from __future__ import annotations

import os

from clientcheck.commands import emit
from clientcheck.deliver import write_output, write_stream
from clientcheck.errors import ExitStatus, InputError, RulesError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from clientcheck import dates as dt
    from clientcheck.arguments import Parsed


def rules(args: Parsed, env: Mapping[str, str], now: dt.datetime) -> int:
    """Run ``rules COMMAND``."""
    command = args.command[1]
    if command == "validate":
        return validate(args.positionals[0], now.date())
    if command == "export":
        return export(args.rules, args.intune, args.products, args.output)
    if command == "generate":
        return generate(args.policy, args.previous, args.output, now)
    if command == "keygen":
        return keygen(args.public, args.secret, force=args.force)
    if command == "sign":
        return sign(args.positionals[0], args.secret, args.trusted_comment, env, now)
    return verify(args.positionals[0], args.key)


def validate(path: str, today: dt.date) -> int:
    from clientcheck.rules import read_rule_file

    try:
        ruleset, _ = read_rule_file(path)
    except RulesError as error:
        from clientcheck.visible import one_line

        write_stream("".join(one_line(f"{path}: {problem}") + "\n" for problem in error.problems))
        write_stream(f"{path}: invalid, {len(error.problems)} problem{'s' if len(error.problems) != 1 else ''}\n")
        return ExitStatus.RULES_INVALID
    expired = " (expired)" if ruleset.expires < today else ""
    # A publisher checking a file before it goes out, or a wrong clock here: either way, worth a word.
    future = f" (published {ruleset.published}, after today)" if ruleset.published > today else ""
    write_stream(
        f"{path}: valid: {len(ruleset.rules)} rules from {ruleset.publisher}, serial {ruleset.serial}, "
        f"expires {ruleset.expires}{expired}{future}\n"
    )
    return ExitStatus.OK


def generate(policy_path: str | None, previous_path: str | None, output: str | None, now: dt.datetime) -> int:
    from clientcheck.rules import read_rule_file
    from clientcheck.rules.generate import generate
    from clientcheck.rules.generate.build import render
    from clientcheck.rules.generate.download import fetch_json
    from clientcheck.rules.generate.policy import load_policy

    if not policy_path:
        raise UsageError("rules generate needs --policy FILE", hint="start from rules/policy.example.json")
    policy = load_policy(policy_path)
    previous = read_rule_file(previous_path)[0] if previous_path else None
    document = generate(policy, fetch_json, now.date(), previous)
    emit(render(document), output)
    return ExitStatus.OK


def export(rules_path: str | None, intune: bool, products_text: str | None, output: str | None) -> int:
    import json

    from clientcheck.render.intune import intune_rules
    from clientcheck.rules import bundled_rules_path, read_rule_file

    if not intune:
        raise UsageError("rules export needs a target", hint="rules export --intune")
    ruleset, _ = read_rule_file(rules_path or bundled_rules_path())
    # Remediation strings in every language the rule file speaks, each rule falling back to English.
    languages = sorted({"en"} | {tag for rule in ruleset.rules for tag, _ in rule.message})
    products = None
    if products_text is not None:
        products = [product.strip() for product in products_text.split(",") if product.strip()]
        named = {product for rule in ruleset.rules for product in rule.products}
        unknown = [product for product in products if product not in named]
        if unknown or not products:
            raise UsageError(
                f"--products: {', '.join(unknown) or 'empty'}: no rule names "
                + ("it" if len(unknown) == 1 else "them"),
                hint="products the rules name: " + ", ".join(sorted(named)),
            )
    emit(json.dumps(intune_rules(ruleset, languages, products), indent=2, ensure_ascii=False) + "\n", output)
    return ExitStatus.OK


def _read_text(path: str, what: str) -> str:
    """A key or signature file: a regular file of a few lines (a FIFO or device is refused, not waited on)."""
    from clientcheck.reading import FileProblem, read_text
    from clientcheck.rules.source import MAX_KEY_BYTES

    try:
        return read_text(path, MAX_KEY_BYTES)
    except FileProblem as problem:
        raise InputError(f"{what} {path}: {problem.reason}") from None


def keygen(public_path: str, secret_path: str, *, force: bool) -> int:
    from clientcheck.rules.minisign import generate_keypair, parse_public_key

    for path in (public_path, secret_path):
        # A file (or a link to one) is a key; /dev/stdout or a FIFO (to hand the key on) is not.
        if os.path.isfile(path) and not force:
            raise UsageError(f"{path} exists: refusing to replace a key", hint="add --force to replace it")
    public, secret = generate_keypair()
    write_output(secret_path, secret, mode=0o600)
    write_output(public_path, public, mode=0o644)
    key = parse_public_key(public)
    write_stream(
        f"Secret key (keep it safe, it is not password-protected): {secret_path}\n"
        f"Public key {key.id_text}: {public_path}\n"
        f"Pin it on the agents with: --rules-key {public.splitlines()[-1].strip()}\n"
    )
    return ExitStatus.OK


def sign(path: str, secret_path: str, trusted_comment: str | None, env: Mapping[str, str], now: dt.datetime) -> int:
    from clientcheck.rules.minisign import SignatureError
    from clientcheck.rules.minisign import sign as make_signature
    from clientcheck.rules.source import read_rule_file

    # Never sign a rule file the agents would refuse (RulesError lists its problems); and sign the very bytes
    # that were checked, not the file read a second time.
    _, data = read_rule_file(path)
    secret = _read_text(secret_path, "--secret")
    comment = trusted_comment or f"timestamp:{int(now.timestamp())}\tfile:{os.path.basename(path)}\thashed"
    password = env.get("CLIENTCHECK_KEY_PASSWORD")
    try:
        encoded = comment.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("--trusted-comment must be UTF-8 text") from None
    if "\n" in comment or "\0" in comment or len(encoded) > 8000:
        raise UsageError("--trusted-comment must be one line of at most 8000 bytes")
    try:
        signature = make_signature(data, secret, comment, password=password)
    except SignatureError as error:
        if password is None and "password" in str(error).lower():
            import getpass

            try:
                signature = make_signature(data, secret, comment, password=getpass.getpass("Key password: "))
            except SignatureError as second:
                raise InputError(f"--secret {secret_path}: {second}") from None
        else:
            raise InputError(f"--secret {secret_path}: {error}") from None
    write_output(path + ".minisig", signature, mode=0o644)
    write_stream(f"{path}.minisig written\n")
    return ExitStatus.OK


def verify(path: str, key: str | None) -> int:
    from clientcheck.rules.minisign import SignatureError, parse_public_key
    from clientcheck.rules.minisign import verify as check

    if not key:
        raise UsageError("rules verify needs --key (the public key, or a .pub file)")
    from clientcheck.reading import FileProblem, read_file
    from clientcheck.rules.source import MAX_RULE_FILE_BYTES

    text = _read_text(key, "--key") if os.path.exists(key) else key
    try:
        data = read_file(path, MAX_RULE_FILE_BYTES)
    except FileProblem as problem:
        raise InputError(f"{path}: {problem.reason}") from None
    try:
        public = parse_public_key(text)
        comment = check(data, _read_text(path + ".minisig", "signature"), public)
    except SignatureError as error:
        raise RulesError(path, [f"signature refused: {error}"]) from None
    write_stream(f"{path}: signature by key {public.id_text} is good; trusted comment: {comment}\n")
    return ExitStatus.OK
