"""PREMIS 3 XML of a bag's records: each record (an intellectual entity), its current files with their
fixity, and every preservation event of the record and its objects (archive.history), linked to them.

Identifiers are the archive's own: a record by its reference code (`dangan-reference-code`), an object by its
content-addressed store key (`dangan-object-key`), an agent by account name (`dangan-account`). Events of
superseded objects (a page replaced by a rescan) link to keys the bag no longer carries; they stay, since they
are part of the record's history.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from xml.etree import ElementTree as ET

from api.records.bag_parts import BagDocument

PREMIS_NS = "http://www.loc.gov/premis/v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{PREMIS_NS} https://www.loc.gov/standards/premis/premis.xsd"
RECORD_ID, OBJECT_ID, AGENT_ID, EVENT_ID, DEVICE_ID = (
    "dangan-reference-code",
    "dangan-object-key",
    "dangan-account",
    "dangan-event",
    "dangan-device",  # a scanning device by its code in the register (an imaging event's hardware agent)
)

ET.register_namespace("premis", PREMIS_NS)
ET.register_namespace("xsi", XSI_NS)


def _el(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{PREMIS_NS}}}{name}", attrs)
    if text is not None:
        element.text = text
    return element


def _identifier(parent: ET.Element, prefix: str, kind: str, value: str) -> None:
    ident = _el(parent, f"{prefix}Identifier")
    _el(ident, f"{prefix}IdentifierType", kind)
    _el(ident, f"{prefix}IdentifierValue", value)


def _record(root: ET.Element, doc: BagDocument) -> None:
    entity = _el(root, "object", **{f"{{{XSI_NS}}}type": "premis:intellectualEntity"})
    _identifier(entity, "object", RECORD_ID, str(doc.row["reference_code"]))
    _el(entity, "originalName", str(doc.row.get("original_filename") or doc.row["reference_code"]))
    for item in doc.files:
        relation = _el(entity, "relationship")
        _el(relation, "relationshipType", "structural")
        _el(relation, "relationshipSubType", "includes")
        related = _el(relation, "relatedObjectIdentifier")
        _el(related, "relatedObjectIdentifierType", OBJECT_ID)
        _el(related, "relatedObjectIdentifierValue", item.key)


def _file(root: ET.Element, doc: BagDocument, seen: set[str]) -> None:
    for item in doc.files:
        if item.key in seen:
            continue
        seen.add(item.key)
        obj = _el(root, "object", **{f"{{{XSI_NS}}}type": "premis:file"})
        _identifier(obj, "object", OBJECT_ID, item.key)
        traits = _el(obj, "objectCharacteristics")
        _el(traits, "compositionLevel", "0")
        fixity = _el(traits, "fixity")
        _el(fixity, "messageDigestAlgorithm", "SHA-256")
        _el(fixity, "messageDigest", item.sha256)
        _el(traits, "size", str(item.size))
        designation = _el(_el(traits, "format"), "formatDesignation")
        _el(designation, "formatName", item.media_type)
        _el(obj, "originalName", item.path)


def _event(root: ET.Element, doc: BagDocument, event: dict[str, object]) -> None:
    element = _el(root, "event")
    _identifier(element, "event", EVENT_ID, str(event["id"]))
    _el(element, "eventType", str(event["event_type"]))
    _el(element, "eventDateTime", str(event["at"]))
    if event["detail"]:
        detail = _el(element, "eventDetailInformation")
        _el(detail, "eventDetail", json.dumps(event["detail"], ensure_ascii=False, sort_keys=True))
    _el(_el(element, "eventOutcomeInformation"), "eventOutcome", str(event["outcome"]))
    agent = _el(element, "linkingAgentIdentifier")
    _el(agent, "linkingAgentIdentifierType", AGENT_ID)
    _el(agent, "linkingAgentIdentifierValue", str(event["agent"]))
    device = _device(event)
    if device is not None:
        hardware = _el(element, "linkingAgentIdentifier")
        _el(hardware, "linkingAgentIdentifierType", DEVICE_ID)
        _el(hardware, "linkingAgentIdentifierValue", str(device["code"]))
    linked = _el(element, "linkingObjectIdentifier")
    if event["object_key"]:
        _el(linked, "linkingObjectIdentifierType", OBJECT_ID)
        _el(linked, "linkingObjectIdentifierValue", str(event["object_key"]))
    else:
        _el(linked, "linkingObjectIdentifierType", RECORD_ID)
        _el(linked, "linkingObjectIdentifierValue", str(doc.row["reference_code"]))


def premis_xml(documents: Iterable[BagDocument], *, agent: str) -> bytes:
    """One premis.xml for the bag: entities, files, events (oldest first per record), then the agents."""
    documents = list(documents)
    root = ET.Element(f"{{{PREMIS_NS}}}premis", {"version": "3.0", f"{{{XSI_NS}}}schemaLocation": SCHEMA_LOCATION})
    seen: set[str] = set()
    for doc in documents:
        _record(root, doc)
    for doc in documents:
        _file(root, doc, seen)
    agents: set[str] = set()
    devices: dict[str, dict[str, object]] = {}
    for doc in documents:
        for event in doc.events:
            _event(root, doc, event)
            agents.add(str(event["agent"]))
            device = _device(event)
            if device is not None:
                devices[str(device["code"])] = device
    for name in sorted(agents):
        element = _el(root, "agent")
        _identifier(element, "agent", AGENT_ID, name)
        _el(element, "agentName", name if name != "system" else agent)
        _el(element, "agentType", "software" if name == "system" else "person")
    for code, device in sorted(devices.items()):
        element = _el(root, "agent")
        _identifier(element, "agent", DEVICE_ID, code)
        _el(element, "agentName", " ".join(str(device[k]) for k in ("name", "make", "model") if device.get(k)) or code)
        _el(element, "agentType", "hardware")
        if device.get("serial_number"):
            _el(element, "agentNote", f"serial number {device['serial_number']}")
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def _device(event: dict[str, object]) -> dict[str, object] | None:
    """The scanning device an imaging event names (archive.history.EventType.IMAGING), if it names one."""
    detail = event.get("detail")
    device = detail.get("device") if isinstance(detail, dict) else None
    return device if isinstance(device, dict) and device.get("code") else None
