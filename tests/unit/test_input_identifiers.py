"""Hardening class 7 (issue 26): identifier inputs are checked by what they name - a pull request
is a positive whole number, a branch a name git accepts (git check-ref-format --branch) - and
words ansible-core would drop from an unquoted -e value (_raw_params) are read whole for a
free-text variable or refused with the quoting that works. The issue's examples were
``preview_pr=42/../1`` and ``-e lock_reason="incident 123"``; these are others of each kind."""
import pytest
from ansible.parsing.splitter import parse_kv

from ansible_collections.tachyon.infra.plugins.module_utils._common import input_types as it
from ansible_collections.tachyon.infra.plugins.module_utils._platform import preview

BAD_PR_OR_BRANCH = ["42/../1", "0", "-1", "007", "4 2", "42\n", "feature/.hidden", "a..b", "x.lock", "@{-1}",
                    "--upload-pack=touch", "x~1", "x^2", "x:y", "x\\y", "a//b", "trailing/", "x?", "x*", "x[1]",
                    "", True, -5, 0, 4.2, ["42"]]
GOOD_PR_OR_BRANCH = [42, "42", "feature/login", "fix-123", "release/1.2.x", "dependabot/npm_and_yarn/x-1.2.3"]


@pytest.mark.parametrize("value", BAD_PR_OR_BRANCH)
def test_a_pr_or_branch_that_names_nothing_is_refused(value):
    assert it.identifier_problem(value, "pr_or_branch")


@pytest.mark.parametrize("value", GOOD_PR_OR_BRANCH)
def test_pr_numbers_and_branch_names_pass(value):
    assert it.identifier_problem(value, "pr_or_branch") is None


@pytest.mark.parametrize("value", ["42", 7])
def test_a_pr_is_a_positive_whole_number_only(value):
    assert it.identifier_problem(value, "pr") is None
    assert it.identifier_problem("feature/x", "pr") and it.identifier_problem("1e3", "pr")


@pytest.mark.parametrize("value", ["main..x", "-f", "HEAD@{1}", "with space", "ends.", "refs/heads/../x"])
def test_a_branch_is_checked_by_git_s_rules(value):
    assert it.identifier_problem(value, "branch")


@pytest.mark.parametrize("pr", ["42/../1", "../../etc", "1/../../x", "-rf"])
def test_the_preview_refuses_before_naming_anything(pr):
    with pytest.raises(preview.PreviewError) as err:
        preview.preview_name("tachyonapp/tachyon-api", pr)
    assert "preview_pr" in str(err.value)


def test_identifier_problems_name_the_variable_never_the_value():
    problems = it.identifier_problems({"preview_pr": "42/../1", "tachyon_repo_branch": "--upload-pack=x",
                                       "unrelated": "../.."})
    assert len(problems) == 2
    assert "preview_pr" in problems[0] + problems[1] and "tachyon_repo_branch" in problems[0] + problems[1]
    assert not any("../1" in p or "upload-pack" in p for p in problems)


# -------------------------------------------------------------------------------- _raw_params
@pytest.mark.parametrize("raw,whole", [("lock_reason=incident 123", "incident 123"),
                                       ("lock_reason=incident 123: payments down", "incident 123: payments down"),
                                       ("lock_reason=db  failover  at 03:00", "db  failover  at 03:00")])
def test_a_free_text_value_split_by_the_shell_is_read_whole(raw, whole):
    repaired, problems = it.raw_params(["lock_action=acquire", raw], parse_kv, ["lock_reason"])
    assert problems == [] and repaired == {"lock_reason": whole}


@pytest.mark.parametrize("raw", ["tachyon_deployed_by=alice smith", "lock_action=acquire now",
                                 "lock_reason=incident 123 lock_action=acquire", "lock_reason=a \"b c\" d",
                                 "just words"])
def test_other_dropped_words_are_refused_with_the_quoting_that_works(raw):
    repaired, problems = it.raw_params([raw], parse_kv, ["lock_reason"])
    assert repaired == {} and len(problems) == 1
    assert "_raw_params" in problems[0] and "=\"several words\"'" in problems[0]
    assert "smith" not in problems[0] and "now" not in problems[0].replace("know", "")


@pytest.mark.parametrize("raw", ['lock_reason="incident 123"', '{"lock_reason": "incident 123"}', "@vars.yml",
                                 "lock_reason=incident"])
def test_quoted_json_and_file_values_need_nothing(raw):
    assert it.raw_params([raw], parse_kv, ["lock_reason"]) == ({}, [])
