"""The command line in the person's language: the text and HTML reports, the JSON report's messages, the
errors and hints on stderr; what a wrong language costs (one warning when asked for, nothing from the
environment); and the fleet formats, which scripts parse, staying English."""

from __future__ import annotations

import pytest

from conftest import DESIGN_EXAMPLE, FIXTURES, REPO

DEBIAN = str(FIXTURES / "linux" / "debian-12-desktop" / "root")
WINDOWS = FIXTURES / "windows" / "windows-10-22h2"
MACOS = str(FIXTURES / "macos" / "macos-13-rsr" / "root")
STEPPED = str(REPO / "rules" / "examples" / "stepped-warnings.json")
LINUX = ("--root", DEBIAN, "--platform", "linux")


def test_the_text_report_in_german(run_cli):
    run = run_cli(*LINUX, "--lang", "de")
    assert run.status == 1
    assert run.err == ""
    lines = run.out.splitlines()
    assert lines[0] == "3 Updates auf diesem Computer fällig (Debian GNU/Linux 12.8)."
    assert "Fällige Updates:" in lines
    assert "  - Chromium 130.0.6723.116: braucht 156.0 oder neuer" in lines
    assert "      Aktualisieren Sie Ihren Chromium-Browser: https://support.google.com/chrome/answer/95414" in lines
    assert "Kein Support mehr (aktualisieren oder ersetzen):" in lines
    assert lines[-1] == (
        "Regeln: mitgeliefert (clientcheck bundled defaults, Seriennummer 2026112501, laufen am 31. Januar 2027 ab)"
    )


def test_a_deadline_in_words_and_as_a_date_in_every_language(run_cli):
    # Chrome's minimum is due from 2026-11-25 for 14 days: owed from 9 December, 8 days left on 1 December.
    expected = {
        "en": "Owed from December 9: 8 days left",
        "en-GB": "Owed from 9 December: 8 days left",
        "de": "Fällig ab 9. Dezember: noch 8 Tage",
        "fr": "Requise à partir du 9 décembre : 8 jours restants",
        "es": "Obligatoria desde el 9 de diciembre: quedan 8 días",
        "it": "Obbligatorio dal 9 dicembre: mancano 8 giorni",
        "nl": "Nodig vanaf 9 december: nog 8 dagen",
        "pt": "Obrigatória a partir de 9 de dezembro: faltam 8 dias",
    }
    for language, line in expected.items():
        run = run_cli(*LINUX, "--rules", STEPPED, "--as-of", "2026-12-01", "--lang", language)
        assert f"      {line}\n" in run.out, (language, run.out)


def test_a_stepped_warning_is_said_urgently(run_cli):
    run = run_cli(*LINUX, "--rules", STEPPED, "--as-of", "2026-12-04", "--lang", "de")
    assert "      Dringend: fällig ab 9. Dezember: noch 5 Tage\n" in run.out
    page = run_cli(*LINUX, "--rules", STEPPED, "--as-of", "2026-12-04", "--lang", "de", "--format", "html").out
    assert '<section class="card due urgent">' in page
    assert '<p class="deadline">Dringend: fällig ab 9. Dezember: noch 5 Tage</p>' in page


def test_the_json_report_says_its_language_and_its_messages_in_it(run_cli):
    report = run_cli(*LINUX, "--lang", "fr", "--format", "json").json()
    assert report["language"] == "fr"
    chromium = next(finding for finding in report["findings"] if finding["product"] == "chromium")
    assert chromium["message"] == "Mettez à jour votre navigateur basé sur Chromium"
    assert chromium["remedy"] == "sudo apt update && sudo apt install --only-upgrade chromium"  # a command


def test_the_fleet_formats_stay_english(run_cli):
    nagios = run_cli(*LINUX, "--lang", "de", "--format", "nagios").out
    assert nagios.startswith("CLIENTCHECK CRITICAL - 3 updates owed: ")
    jamf = run_cli(*LINUX, "--lang", "de", "--format", "jamf").out
    assert jamf.startswith("<result>OWED: ")
    csv = run_cli(*LINUX, "--rules", str(DESIGN_EXAMPLE), "--as-of", "2026-11-25", "--lang", "de", "--format", "csv")
    assert ",2026-12-02," in csv.out  # ISO dates, which spreadsheets and scripts compare


def test_windows_and_macos_machines_in_french(run_cli):
    windows = run_cli("--root", str(WINDOWS / "root"), "--registry", str(WINDOWS / "registry.reg"), "--lang", "fr")
    assert "mises à jour requises sur cet ordinateur" in windows.out.splitlines()[0]
    assert "Comment : Paramètres > Windows Update" in windows.out or "Comment :" in windows.out
    mac = run_cli("--root", MACOS, "--platform", "macos", "--lang", "fr")
    assert "cet ordinateur" in mac.out.splitlines()[0]


def test_an_unknown_language_asked_for_warns_once_and_reports_in_english(run_cli):
    run = run_cli(*LINUX, "--lang", "sv")
    assert run.err == (
        "clientcheck: warning: no messages in language 'sv' (there are: de, en, es, fr, it, nl, pt): the messages"
        " are in English\n"
    )
    assert run.out.startswith("3 updates owed on this computer")
    html = run_cli(*LINUX, "--lang", "sv", "--format", "html")
    assert html.err.count("clientcheck: warning:") == 1
    assert '<html lang="en">' in html.out


def test_an_unknown_language_from_the_environment_is_silent(run_cli):
    # Intune counts any output on stderr as a failed script: a locale without messages says nothing.
    run = run_cli(*LINUX, env={"LANG": "sv_SE.UTF-8"})
    assert (run.err, run.out.splitlines()[0]) == ("", "3 updates owed on this computer (Debian GNU/Linux 12.8).")
    german = run_cli(*LINUX, env={"LANG": "de_AT.UTF-8"})
    assert german.out.startswith("3 Updates auf diesem Computer fällig")
    assert "laufen am 31. Jänner 2027 ab" in german.out  # Austria's January


def test_the_setting_counts_as_asked_for(run_cli):
    run = run_cli(*LINUX, env={"CLIENTCHECK_REPORT_LANGUAGE": "it", "LANG": "de_DE.UTF-8"})
    assert run.out.startswith("3 aggiornamenti da fare su questo computer")
    wrong = run_cli(*LINUX, env={"CLIENTCHECK_REPORT_LANGUAGE": "xx"})
    assert wrong.err.count("clientcheck: warning: no messages in language 'xx'") == 1


@pytest.mark.parametrize(
    ("arguments", "env", "lines"),
    [
        (
            ["--lang", "de", "--bogus"],
            {},
            [
                "clientcheck: Fehler: unbekannte Option '--bogus' für 'check'",
                "clientcheck: Hinweis: siehe 'clientcheck check --help'",
            ],
        ),
        (
            ["check", "--as-of", "9.12.2026"],
            {"LANG": "fr_FR.UTF-8"},
            [
                "clientcheck : erreur : --as-of : '9.12.2026' n'est pas une date (AAAA-MM-JJ)",
                "clientcheck : conseil : voir 'clientcheck check --help'",
            ],
        ),
        (
            ["--root", "/nonexistent/tree", "--platform", "linux", "--lang", "es"],
            {},
            ["clientcheck: error: --root /nonexistent/tree: no es una carpeta"],
        ),
        (["--lang", "sv", "--bogus"], {}, ["clientcheck: error: unknown option '--bogus' for 'check'"]),
    ],
    ids=["german-usage", "french-date", "spanish-root", "unknown-language"],
)
def test_errors_and_hints_in_the_persons_language(run_cli, arguments, env, lines):
    run = run_cli(*arguments, env=env)
    assert run.status in (2, 4)
    assert run.err.splitlines()[: len(lines)] == lines
