"""区委、区政府交办事项 (assigned_matter): steps of 交办事项.feature."""

from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import select
from steps.common import rows, table
from steps.world import World

from meeting.models import AssignedMatter
from meeting.statuses import ItemSource, MatterStatus

scenarios("交办事项.feature")


def _matter(world: World, title: str) -> AssignedMatter:
    with world.db.sessions() as s:
        matter = s.scalar(select(AssignedMatter).where(AssignedMatter.title == title))
    assert matter is not None, f"没有交办事项“{title}”"
    return matter


@given(parsers.parse('"{who}"登记交办件：'))
def register(world: World, who: str, datatable: list[list[str]]) -> None:
    user = world.user(who)
    start = next(e for e in world.service.startable(world.actor(user)) if e["process_key"] == "assigned_matter")
    fields = {f["label"]: f for f in start["form"]}
    values = {fields[label]["id"]: world.form_value(fields[label], raw)
              for label, raw in table(datatable).items()}
    instance_id = world.start(user, "assigned_matter", form_values=values)
    world.remember_instance("assigned_matter", instance_id)


@then(parsers.parse('交办事项"{title}"的收文号为"{number}"，状态为"{status}"'))
def number_and_status(world: World, title: str, number: str, status: str) -> None:
    matter = _matter(world, title)
    assert (matter.number, matter.status) == (number, MatterStatus.from_label(status))


@then(parsers.parse('交办事项"{title}"的状态为"{status}"'))
def matter_status(world: World, title: str, status: str) -> None:
    assert _matter(world, title).status == MatterStatus.from_label(status)


@then(parsers.parse('交办事项"{title}"的报告文号为"{number}"'))
def report_number(world: World, title: str, number: str) -> None:
    assert _matter(world, title).report_number == number


@when(parsers.parse('联席会议审议议题"{title}"，议定事项如下：'))
def meeting_on_topic(world: World, title: str, datatable: list[list[str]]) -> None:
    world.convene("2026年第一次社会救助联席会议", 7, [title])
    world.all_reply()
    world.meeting_day()
    world.sign_in()
    world.record_outcome(rows(datatable))
    world.ok()


@then(parsers.parse('交办事项"{title}"的办理情况报告写明"{words}"'))
def report_says(world: World, title: str, words: str) -> None:
    import io

    from docx import Document

    from meeting import matter_docs

    with world.db.sessions() as s:
        matter = s.scalar(select(AssignedMatter).where(AssignedMatter.title == title))
        assert matter is not None
        content = matter_docs.matter_report(s, matter)
    assert content is not None, "办理情况报告尚未审签"
    text = "\n".join(p.text for p in Document(io.BytesIO(matter_docs.build_docx(content))).paragraphs)
    assert words in text, text


@when("联席会议印发会议纪要")
def minutes_issued(world: World) -> None:
    world.issue_minutes()


@then(parsers.parse('议定事项"{item}"的来源为"{source}"'))
def item_source(world: World, item: str, source: str) -> None:
    """The ledger's 来源 column reads the item's source and reference (meeting/ledger.py LedgerRow.source)."""
    row = world.item(item)
    assert f"{ItemSource.label_of(row.source)}：{row.source_ref}" == source
