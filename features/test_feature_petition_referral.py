"""信访转办 (petition_referral): steps of 信访转办.feature."""

from __future__ import annotations

from pytest_bdd import given, parsers, scenarios, then
from sqlalchemy import select
from steps.common import table
from steps.world import World

from meeting.models import PetitionReferral
from meeting.statuses import PetitionStatus

scenarios("信访转办.feature")


@given(parsers.parse('"{who}"转来信访件：'))
def refer(world: World, who: str, datatable: list[list[str]]) -> None:
    user = world.user(who)
    start = next(e for e in world.service.startable(world.actor(user)) if e["process_key"] == "petition_referral")
    fields = {f["label"]: f for f in start["form"]}
    values = {fields[label]["id"]: world.form_value(fields[label], raw)
              for label, raw in table(datatable).items()}
    world.remember_instance("petition_referral", world.start(user, "petition_referral", form_values=values))


@then(parsers.parse('信访件"{number}"的状态为"{status}"，在期限内答复'))
def answered_on_time(world: World, number: str, status: str) -> None:
    with world.db.sessions() as s:
        petition = s.scalar(select(PetitionReferral).where(PetitionReferral.number == number))
    assert petition is not None
    assert (petition.status, petition.on_time) == (PetitionStatus.from_label(status), True)


@then(parsers.parse('信访件"{number}"的状态为"{status}"'))
def petition_status(world: World, number: str, status: str) -> None:
    with world.db.sessions() as s:
        petition = s.scalar(select(PetitionReferral).where(PetitionReferral.number == number))
    assert petition is not None and petition.status == PetitionStatus.from_label(status)
