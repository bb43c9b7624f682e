"""Camunda 7's reading of a diagram, applied to the XML before the lint and before SpiffWorkflow parses it.

Two passes, so the lint sees what Camunda sees and SpiffWorkflow gets only what it runs the way Camunda does:

* ``canonicalize`` (right after the hardened parse, before every check): the legacy namespace
  ``http://activiti.org/bpmn``, which Camunda 7 reads as its own, becomes ``camunda:``; sequence flows without
  an ``id`` (the XSD allows that, Camunda generates one) get a stable generated id.
* ``lower`` (after the lint accepted the file, right before SpiffWorkflow's parse): constructs SpiffWorkflow
  does not know or runs differently are rewritten into ones it runs as Camunda does. A link throw event gets a
  sequence flow to the link catch event of the same name; message throw events without an implementation do
  nothing (as in Camunda, which treats them as none events); data objects, data stores and their associations,
  which Camunda 7 does not execute, are removed.

What Camunda runs that neither pass can express is refused by the lint rules (engine/lint_rules.json).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ACTIVITI = "http://activiti.org/bpmn"
GENERATED_FLOW_PREFIX = "flow_"
SCOPES = ("process", "subProcess", "transaction", "adHocSubProcess")
# What Camunda 7 reads but does not execute: removed before SpiffWorkflow, which would act on them.
IGNORED = ("dataInputAssociation", "dataOutputAssociation", "dataObject", "dataObjectReference",
           "dataStoreReference", "ioSpecification", "property")


def _q(tag: str, ns: str = BPMN) -> str:
    return f"{{{ns}}}{tag}"


@dataclass(frozen=True)
class Ignored:
    """Something ``lower`` removed because Camunda 7 does not execute it (a deploy warning)."""

    element_id: str | None
    line: int | None
    what: str


def canonicalize(root: etree._Element) -> None:
    _activiti_as_camunda(root)
    _generate_flow_ids(root)


def _activiti_as_camunda(root: etree._Element) -> None:
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag.startswith(f"{{{ACTIVITI}}}"):
            el.tag = _q(etree.QName(el).localname, CAMUNDA)
        legacy = [k for k in el.attrib if k.startswith(f"{{{ACTIVITI}}}")]
        for key in legacy:
            value = el.attrib.pop(key)
            camunda_key = _q(etree.QName(key).localname, CAMUNDA)
            if camunda_key not in el.attrib:  # written both ways: Camunda's own spelling wins
                el.set(camunda_key, value)


def _generate_flow_ids(root: etree._Element) -> None:
    """``flow_<source>_<target>`` (numbered when taken): the same file always gets the same ids."""
    taken = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    for flow in root.iter(_q("sequenceFlow")):
        if flow.get("id"):
            continue
        base = f"{GENERATED_FLOW_PREFIX}{flow.get('sourceRef') or 'x'}_{flow.get('targetRef') or 'x'}"
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        flow.set("id", candidate)
        taken.add(candidate)


def link_name(event: etree._Element) -> str | None:
    """The name of an event's link definition (None: not a link event; "" when it has no name)."""
    link = event.find(_q("linkEventDefinition"))
    return None if link is None else (link.get("name") or "").strip()


def link_events(scope: etree._Element, tag: str) -> list[etree._Element]:
    """The link events of one scope (not of its nested subprocesses: a link never leaves its scope)."""
    return [ev for ev in scope.findall(_q(tag)) if link_name(ev) is not None]


def lower(root: etree._Element) -> list[Ignored]:
    ignored = _drop_ignored(root)
    for scope in root.iter(*(_q(t) for t in SCOPES)):
        _links_as_flows(scope)
    _message_throws_as_none(root)
    return ignored


def _links_as_flows(scope: etree._Element) -> None:
    catches = {link_name(ev): ev for ev in link_events(scope, "intermediateCatchEvent")}
    for throw in link_events(scope, "intermediateThrowEvent"):
        target = catches.get(link_name(throw))
        if target is None:
            continue  # the lint refused it already
        flow = etree.SubElement(scope, _q("sequenceFlow"))
        flow.set("id", f"link_{throw.get('id')}_{target.get('id')}")
        flow.set("sourceRef", throw.get("id") or "")
        flow.set("targetRef", target.get("id") or "")
        etree.SubElement(throw, _q("outgoing")).text = flow.get("id")
        etree.SubElement(target, _q("incoming")).text = flow.get("id")
    for ev in link_events(scope, "intermediateThrowEvent") + link_events(scope, "intermediateCatchEvent"):
        ev.remove(ev.find(_q("linkEventDefinition")))
        ev.tag = _q("intermediateThrowEvent")  # an event without a definition passes its token on


def _message_throws_as_none(root: etree._Element) -> None:
    for tag in ("intermediateThrowEvent", "endEvent"):
        for ev in root.iter(_q(tag)):
            md = ev.find(_q("messageEventDefinition"))
            if md is not None:
                ev.remove(md)


def _drop_ignored(root: etree._Element) -> list[Ignored]:
    ignored = []
    for el in list(root.iter(*(_q(t) for t in IGNORED))):
        parent = el.getparent()
        if parent is None:
            continue
        owner = el if el.get("id") else parent
        ignored.append(Ignored(owner.get("id"), el.sourceline, etree.QName(el).localname))
        parent.remove(el)
    return ignored
