"""The command line as an operator uses it: real processes, a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "web"]


def run_cli(*args: str, db: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if db is not None:
        environment["DATABASE_URL"] = f"sqlite:///{db}"
    environment.update(env or {})
    return subprocess.run([*FLASK, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)


def test_demo_runs_a_whole_joint_meeting() -> None:
    result = run_cli("demo", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["all_completed"] is True
    # three items of the minutes, one 交办 and one 信访 item (meeting/demo_matters.py)
    assert figures["resolutions_closed"] == 5
    for key in ("assigned_matters_closed", "coordination_requests_closed", "petitions_answered"):
        assert figures[key] == 1, key
    # 一门受理 at 五里镇: re-routed once after a 非本部门职责 return, visited back; its handler's one logged view
    # and a 救急难 case verified on site within 24 hours
    for key in ("referrals_completed", "referrals_rerouted", "personal_data_views_logged", "urgent_cases_responded_24h"):
        assert figures[key] == 1, key
    # 家庭经济状况核对 at 五里镇: five departments answer, 区总工会 stays silent (未反馈); the month's 动态复核 of
    # the town's rolls re-checks that household (meeting/demo_checks.py)
    assert figures["household_checks_completed"] == 1
    assert figures["provider_answers_late"] == 1
    assert figures["batch_households_rechecked"] == 1
    assert figures["major_issues_decided"] == 1
    assert figures["instances_open"] == 0
    assert figures["reminders_sent"] >= 1
    assert figures["overdue_escalations"] >= 1
    assert figures["extensions_approved"] == 1
    assert figures["audit_events"] > 50
    # 督办: a silent co-unit, a 督办函, a manual 督办, 月报, a 阶段性报告, an extension the rules refused, key items
    # closed with evidence, a 督办通报 (meeting/demo_supervision.py).
    for key in ("co_unit_overdue_recorded", "escalation_letters", "manual_supervisions", "interim_reports",
                "extensions_refused_by_rule", "bulletins_issued"):
        assert figures[key] == 1, key
    assert figures["progress_reports"] == 2 and figures["key_items_closed_with_evidence"] == 2


def test_init_is_idempotent_and_deploys_the_five_processes(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    first = run_cli("init", "--demo", db=db)
    assert first.returncode == 0, first.stderr
    for key in ("topic_proposal", "joint_meeting", "resolution_item", "major_issue", "membership_change"):
        assert f"deployed {key} v1" in first.stdout
    second = run_cli("init", "--demo", db=db)
    assert second.returncode == 0, second.stderr
    assert "unchanged joint_meeting v1" in second.stdout
    assert "demo users created: 0" in second.stdout
    assert "deployed decision assistance_routing v1" in first.stdout
    assert "unchanged decision assistance_routing v1" in second.stdout


BAD = {
    "script.bpmn": ("""<bpmn:scriptTask id="evil" name="脚本"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>import os</bpmn:script></bpmn:scriptTask>""",
                    "evil", "脚本任务"),
    "dunder.bpmn": ("""<bpmn:userTask id="evil" name="审核" camunda:candidateGroups="${().__class__}">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>""",
                    "evil", "下划线"),
    "import.bpmn": ("""<bpmn:userTask id="evil" name="审核" camunda:assignee="${__import__('os').getcwd()}">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>""",
                    "evil", "__import__"),
    "topic.bpmn": ("""<bpmn:serviceTask id="evil" name="发送" camunda:type="external" camunda:topic="mail.steal">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>""",
                   "evil", "mail.steal"),
}
TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">
  <bpmn:process id="bad" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    {body}
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="evil"/>
    <bpmn:sequenceFlow id="f2" sourceRef="evil" targetRef="{target}"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.parametrize("name", sorted(BAD))
def test_deploy_refuses_hostile_diagrams_compiler_style(tmp_path: Path, name: str) -> None:
    db = tmp_path / "app.db"
    assert run_cli("init", db=db).returncode == 0
    body, element, needle = BAD[name]
    path = tmp_path / name
    path.write_text(TEMPLATE.format(body=body, target="e"), encoding="utf-8")
    result = run_cli("deploy", str(path), db=db)
    assert result.returncode == 1
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines, result.stdout
    matching = [ln for ln in lines if ln.startswith(f"{name}:") and f": {element}: " in ln and needle in ln]
    assert matching, lines
    line_no = int(matching[0].split(":")[1])
    assert line_no > 0
    assert "deployed" not in result.stdout


def test_deploy_refuses_doctype_and_missing_targets(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    assert run_cli("init", db=db).returncode == 0
    xxe = tmp_path / "xxe.bpmn"
    xxe.write_text('<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n'
                   '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;'
                   '</bpmn:definitions>', encoding="utf-8")
    missing = tmp_path / "missing.bpmn"
    missing.write_text(TEMPLATE.format(
        body='<bpmn:userTask id="evil" name="审核" camunda:candidateGroups="office">'
             '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>',
        target="nowhere"), encoding="utf-8")
    result = run_cli("deploy", str(xxe), str(missing), db=db)
    assert result.returncode == 1
    assert "xxe.bpmn:2: -: 不允许 DOCTYPE" in result.stderr
    assert any(ln.startswith("missing.bpmn:") and ": f2: " in ln and "nowhere" in ln
               for ln in result.stderr.splitlines())


def test_deploy_accepts_a_modeler_diagram_and_worker_once(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    assert run_cli("init", db=db).returncode == 0
    diagram = tmp_path / "two_step.bpmn"
    text = (ROOT / "tests" / "diagrams" / "two_step.bpmn").read_text(encoding="utf-8")
    diagram.write_text(text.replace("test.note", "meeting.remind_attendance"), encoding="utf-8")
    result = run_cli("deploy", str(diagram), db=db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "deployed two_step v1"
    once = run_cli("worker", "--once", db=db)
    assert once.returncode == 0 and once.stdout.strip() == "fired 0"


def test_deploy_takes_decision_tables_and_refuses_a_bad_cell_with_nothing_stored(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    assert run_cli("init", db=db).returncode == 0
    shipped = (ROOT / "processes" / "assistance_routing.dmn").read_text(encoding="utf-8")
    changed = tmp_path / "assistance_routing.dmn"
    changed.write_text(shipped.replace('<text>"jiaoti"</text>', '<text>"renshe"</text>'), encoding="utf-8")
    bad = tmp_path / "bad.dmn"
    bad.write_text(shipped.replace('id="assistance_routing"', 'id="other"')
                   .replace("<text>15</text>", "<text>().__class__</text>"), encoding="utf-8")
    diagram = tmp_path / "two_step.bpmn"
    text = (ROOT / "tests" / "diagrams" / "two_step.bpmn").read_text(encoding="utf-8")
    diagram.write_text(text.replace("test.note", "meeting.remind_attendance"), encoding="utf-8")
    refused = run_cli("deploy", str(diagram), str(changed), str(bad), db=db)
    assert refused.returncode == 1
    assert any(ln.startswith("bad.dmn:") and ": OutputEntry_05_limit_days: " in ln for ln in refused.stderr.splitlines())
    assert "deployed" not in refused.stdout
    result = run_cli("deploy", str(diagram), str(changed), db=db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == ["deployed two_step v1", "deployed decision assistance_routing v2"]
