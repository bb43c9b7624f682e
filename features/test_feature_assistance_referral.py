"""一门受理、协同办理 (assistance_referral): steps of 一门受理.feature."""

from __future__ import annotations

import re

from lxml import etree
from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import or_, select
from steps.common import checks_refusal, rows, table
from steps.world import World

from engine.errors import FormError
from engine.loader import SourceFile
from meeting import cases
from meeting.case_context import department_name
from meeting.models import AssistanceCase, CaseHandling, Notification, PersonalDataView, Unit, User
from meeting.statuses import CaseStatus, HandlingStatus, Satisfaction

scenarios("一门受理.feature")

DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def _case(world: World, applicant: str) -> AssistanceCase:
    with world.db.sessions() as s:
        found = s.scalars(select(AssistanceCase).where(AssistanceCase.applicant_name == applicant)
                          .order_by(AssistanceCase.id.desc())).first()
    assert found is not None, f"没有申请人为“{applicant}”的案件"
    return found


def _viewer(world: World, who: str) -> cases.Viewer:
    actor = world.actor(world.user(who))
    with world.db.sessions() as s:
        return cases.viewer_for(s, actor.username, actor.groups, actor.unit)


@when(parsers.parse('"{who}"受理救助申请：'))
def register(world: World, who: str, datatable: list[list[str]]) -> None:
    user = world.user(who)
    start = next(e for e in world.service.startable(world.actor(user)) if e["process_key"] == "assistance_referral")
    world.start_form = start["form"]
    fields = {f["label"]: f for f in start["form"]}
    values = {fields[label]["id"]: world.form_value(fields[label], raw) for label, raw in table(datatable).items()}
    instance = world.attempt(lambda: world.start(user, "assistance_referral", form_values=values))
    if instance:
        world.remember_instance("assistance_referral", instance)


@then(parsers.parse('登记被拒绝，"{label}"提示"{message}"'))
@checks_refusal
def registration_refused(world: World, label: str, message: str) -> None:
    error = world.take_error(FormError)
    assert isinstance(error, FormError)
    field = next(f["id"] for f in world.start_form if f["label"] == label)
    assert message in error.errors.get(field, ""), error.errors
    with world.db.sessions() as s:
        assert s.scalar(select(AssistanceCase.id)) is None


@then("案件分派给：")
def routed_to(world: World, datatable: list[list[str]]) -> None:
    with world.db.sessions() as s:
        case_id = s.scalar(select(AssistanceCase.id).order_by(AssistanceCase.id.desc()))
        names = dict(s.execute(select(Unit.code, Unit.name)).all())
        got = {(h.aid_type, department_name(h.department, names))
               for h in s.scalars(select(CaseHandling).where(CaseHandling.case_id == case_id))}
    assert got == {(r["申请救助类别"], r["办理部门"]) for r in rows(datatable)}, got


@when(parsers.parse('"{designer}"把分派规则中"{aid_type}"的办理部门改为"{code}"，"{approver}"发布'))
def change_rule(world: World, designer: str, aid_type: str, code: str, approver: str) -> None:
    decisions = world.service.decisions
    current = decisions.model(cases.ROUTING_DECISION)
    root = etree.fromstring(current.xml.encode())
    for rule in root.iter(f"{{{DMN}}}rule"):
        entry = rule.find(f"{{{DMN}}}inputEntry/{{{DMN}}}text")
        if entry is not None and entry.text == f'"{aid_type}"':
            rule.findall(f"{{{DMN}}}outputEntry/{{{DMN}}}text")[0].text = f'"{code}"'
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    deployed = decisions.deploy([SourceFile("assistance_routing.dmn", xml)], world.actor(world.user(designer)),
                                pending=True)
    decisions.publish(cases.ROUTING_DECISION, deployed[0].model.version, world.actor(world.user(approver)))


@then(parsers.parse('案件"{applicant}"的"{aid_type}"由"{department}"办理，按分派规则第{version:d}版'))
def routed_by_version(world: World, applicant: str, aid_type: str, department: str, version: int) -> None:
    case = _case(world, applicant)
    with world.db.sessions() as s:
        names = dict(s.execute(select(Unit.code, Unit.name)).all())
        handling = s.scalars(select(CaseHandling).where(CaseHandling.case_id == case.id,
                                                        CaseHandling.aid_type == aid_type)).one()
    assert (department_name(handling.department, names), handling.routing_version) == (department, version)


@then(parsers.parse('案件"{applicant}"的状态为"{status}"，回访"{answer}"，重新分派{n:d}次'))
def closed_and_visited(world: World, applicant: str, status: str, answer: str, n: int) -> None:
    case = _case(world, applicant)
    assert (case.status, case.satisfaction, case.reroute_count) == (
        CaseStatus.from_label(status), Satisfaction.from_label(answer), n)
    assert case.informed_on is not None and case.visited_on is not None


@then(parsers.parse('案件"{applicant}"的状态为"{status}"'))
def case_status(world: World, applicant: str, status: str) -> None:
    assert _case(world, applicant).status == CaseStatus.from_label(status)


@then(parsers.parse('案件"{applicant}"的"{aid_type}"办理情况为"{status}"'))
def handling_status(world: World, applicant: str, aid_type: str, status: str) -> None:
    case = _case(world, applicant)
    with world.db.sessions() as s:
        found = s.scalars(select(CaseHandling.status).where(CaseHandling.case_id == case.id,
                                                            CaseHandling.aid_type == aid_type)).all()
    assert HandlingStatus.from_label(status) in found, found


def _listed(world: World, who: str) -> list[AssistanceCase]:
    viewer = _viewer(world, who)
    with world.db.sessions() as s:
        return list(s.scalars(select(AssistanceCase).where(cases.visible_filter(viewer))))


@then(parsers.parse('"{who}"的案件列表中没有"{applicant}"'))
def not_listed(world: World, who: str, applicant: str) -> None:
    assert applicant not in {c.applicant_name for c in _listed(world, who)}
    with world.db.sessions() as s:
        assert not cases.may_see(s, _viewer(world, who), _case(world, applicant))


@then(parsers.parse('"{who}"的案件列表中有"{applicant}"，身份证号显示为"{masked}"'))
def listed_masked(world: World, who: str, applicant: str, masked: str) -> None:
    found = [c for c in _listed(world, who) if c.applicant_name == applicant]
    assert found and cases.masked(found[0])["id_number"] == masked


@when(parsers.parse('"{who}"查看案件"{applicant}"的身份证号和联系电话'))
def reveal(world: World, who: str, applicant: str) -> None:
    viewer = _viewer(world, who)
    with world.db.transaction() as s:
        case = s.get(AssistanceCase, _case(world, applicant).id)
        assert case is not None
        world.revealed = cases.reveal(s, viewer, case, world.clock.now())


@then(parsers.parse('看到身份证号"{number}"，个人信息查看记录中有"{person}"查看"{applicant}"案件的记录'))
def revealed_and_logged(world: World, number: str, person: str, applicant: str) -> None:
    assert world.revealed["id_number"] == number
    case = _case(world, applicant)
    with world.db.sessions() as s:
        views = s.execute(select(User.display_name, PersonalDataView.fields).join(
            User, User.username == PersonalDataView.actor).where(PersonalDataView.subject_id == case.id)).all()
    assert [(person, "身份证号、联系电话")] == [tuple(v) for v in views]


@then(parsers.parse('"{who}"不能查看案件"{applicant}"的身份证号'))
def may_not_reveal(world: World, who: str, applicant: str) -> None:
    viewer = _viewer(world, who)
    with world.db.transaction() as s:
        case = s.get(AssistanceCase, _case(world, applicant).id)
        assert case is not None
        before = len(s.scalars(select(PersonalDataView.id)).all())
        shown = cases.reveal(s, viewer, case, world.clock.now())
        assert "*" in shown["id_number"] and shown["id_number"] != case.id_number
        s.flush()
        assert len(s.scalars(select(PersonalDataView.id)).all()) == before


@then("通知中没有身份证号或联系电话")
def no_personal_data_in_notifications(world: World) -> None:
    with world.db.sessions() as s:
        numbers = {n for row in s.execute(select(AssistanceCase.id_number, AssistanceCase.phone)) for n in row if n}
        texts = s.scalars(select(Notification.title + " " + Notification.body).where(
            or_(*(Notification.title.contains(n) | Notification.body.contains(n) for n in numbers)))).all()
    assert numbers and not texts, texts
    assert all(not re.search(r"\d{17}[\dX]", t) for t in texts)
