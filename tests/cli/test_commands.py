"""The ``guard`` command as a newcomer meets it (issue 24 items 3, 6, 7, 8, 9)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from guard.adapters.cli import app
from guard.config import GuardConfig, load_config

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args), terminal_width=200)


# -- help, version, flags ------------------------------------------------------------------------------------


def test_help_loads_no_model_stack():
    # What makes --help slow is importing litellm, torch and the eval stack before printing; measured in README.
    code = ("import sys; import guard.adapters.cli; "
            "print(sorted(m for m in ('litellm', 'torch', 'faiss', 'sqlalchemy', 'numpy', 'rich.console', "
            "'guard.pipeline', 'guard.kb', 'uvicorn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)

    assert done.stdout.strip() == "[]", done.stderr


def test_version_prints_the_installed_version():
    from importlib.metadata import version

    result = _run("--version")

    assert result.exit_code == 0 and result.output == f"guard {version('guard-llm')}\n"


def test_boolean_options_render_as_flags():
    result = _run("report", "--help")

    assert result.exit_code == 0
    assert "--json " in result.output and "<bool>" not in result.output


# -- guard init ----------------------------------------------------------------------------------------------


def test_init_writes_a_config_that_reads_back_as_the_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("GUARD_TELEMETRY__DATABASE")
    monkeypatch.delenv("GUARD_KNOWLEDGE_BASE__PATH")

    result = _run("init")

    assert result.exit_code == 0 and "wrote guard.yaml" in result.output
    assert load_config("guard.yaml") == GuardConfig()
    assert "#   chunk_size: 800" not in (tmp_path / "guard.yaml").read_text()  # commented as '# chunk_size: 800'
    assert "  # chunk_size: 800  # Target chunk size in characters." in (tmp_path / "guard.yaml").read_text()


def test_init_keeps_an_existing_file(tmp_path):
    (tmp_path / "guard.yaml").write_text("product:\n  name: mine\n")

    result = _run("init")

    assert result.exit_code == 1 and "guard.yaml exists" in result.output
    assert (tmp_path / "guard.yaml").read_text() == "product:\n  name: mine\n"


def test_a_risk_set_in_an_initialised_file_still_brings_its_defaults(tmp_path, monkeypatch):
    _run("init")
    text = (tmp_path / "guard.yaml").read_text().replace("  risk: medium", "  risk: high")
    (tmp_path / "guard.yaml").write_text(text)

    config = load_config("guard.yaml")

    assert config.review.policy == "block" and config.citations.required is True


# -- choices are checked, never an empty table ---------------------------------------------------------------


def test_review_list_refuses_an_unknown_tier_listing_the_valid_ones():
    result = _run("review", "list", "--tier", "lo")

    # the order of the choices is typing's (it caches equal Literals, whichever was built first): not asserted
    assert result.exit_code == 2 and "'lo' is not one of" in result.output
    assert all(f"'{tier}'" in result.output for tier in ("high", "medium", "low"))


def test_review_list_refuses_an_unknown_policy_and_status():
    assert "'hold' is not one of 'flag', 'block'" in _run("review", "list", "--policy", "hold").output
    assert "'done' is not one of 'pending', 'approved', 'edited', 'rejected', 'expired'" in _run(
        "review", "list", "--status", "done").output


# -- read-only commands --------------------------------------------------------------------------------------


def test_report_in_an_empty_folder_creates_no_store_and_names_the_one_it_looked_for(tmp_path):
    result = _run("report")

    assert result.exit_code == 1
    assert f"no store at {tmp_path / 'guard.db'}: nothing has been recorded there yet" in result.output
    assert not (tmp_path / "guard.db").exists()


def test_review_list_and_show_create_no_store(tmp_path):
    listed, shown = _run("review", "list"), _run("review", "show", "rv_1")

    assert listed.exit_code == shown.exit_code == 1 and "no store at" in listed.output
    assert not (tmp_path / "guard.db").exists()


def test_report_with_no_requests_in_the_window_says_so_and_names_its_store(tmp_path):
    from guard.store import open_store

    open_store(str(tmp_path / "guard.db")).close()

    result = _run("report", "--since", "1d")

    assert result.exit_code == 0
    assert f"store: {tmp_path / 'guard.db'}" in result.output
    assert "no requests in this window" in result.output and "support.enabled" not in result.output


# -- eval suites by name -------------------------------------------------------------------------------------


def test_eval_list_names_the_shipped_suites():
    result = _run("eval", "list")

    assert result.exit_code == 0
    assert all(name in result.output for name in ("wice-dev", "halueval-qa", "examples-kb"))


def test_an_unknown_suite_name_lists_the_shipped_ones():
    result = _run("eval", "run", "wice")

    assert result.exit_code == 2
    assert "no shipped suite named 'wice'" in result.output and "wice-dev" in result.output


def test_a_shipped_suite_is_found_by_name_from_any_folder():
    from guard.evals.suite import load_suite, suite_file

    suite = load_suite(suite_file("wice-dev"))

    assert suite.name == "wice-dev" and suite.dataset.is_file()


def test_a_users_suite_reads_its_dataset_beside_the_yaml(tmp_path):
    from guard.evals.suite import load_suite

    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "mine.jsonl").write_text('{"id": "1", "claim": "a", "sources": ["a"], "label": 1}\n')
    (tmp_path / "evals" / "mine.yaml").write_text("name: mine\nkind: detection\ndataset: mine.jsonl\n")

    assert load_suite(Path("evals/mine.yaml")).dataset == tmp_path / "evals" / "mine.jsonl"


# -- the knowledge base --------------------------------------------------------------------------------------


def test_kb_add_of_a_missing_folder_fails_and_creates_nothing(tmp_path):
    result = _run("kb", "add", "examples/kb")

    assert result.exit_code == 1 and "examples/kb: no such file or folder" in result.output
    assert not (tmp_path / "kb").exists()


def test_each_eval_run_keeps_its_reviews_in_a_scratch_store_of_its_own():
    # A scratch file shared by every run on the machine carried another guard version's schema and broke runs.
    from rich.console import Console

    from guard.evals.arm import eval_config
    from guard.evals.suite import load_suite, suite_file

    suite = load_suite(suite_file("wice-dev"))
    first, second = (eval_config(suite, GuardConfig(), Console()) for _ in range(2))

    assert first.telemetry.database != second.telemetry.database
