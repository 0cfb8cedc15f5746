"""Reads one e-mail on standard input with Python's own e-mail parser under
its strict policy (email.policy.default) and prints, as JSON, every defect
the parser noted in every part and header, the tree of parts with their
decoded contents, and the decoded header fields. Standard library only."""

import base64
import email.parser
import email.policy
import json
import sys

raw = sys.stdin.buffer.read()
msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
defects = []


def note(where, found):
    for d in found:
        defects.append("%s: %s: %s" % (where, type(d).__name__, d))


for n, line in enumerate(raw.split(b"\n"), 1):
    if len(line.rstrip(b"\r")) > 998:
        defects.append("line %d: %d octets, more than 998" % (n, len(line.rstrip(b"\r"))))

parts = []


def walk(part, path):
    info = {
        "path": path,
        "type": part.get_content_type(),
        "cte": str(part.get("content-transfer-encoding", "")),
        "charset": part.get_content_charset() or "",
        "content_id": str(part.get("content-id", "")),
        "disposition": part.get_content_disposition() or "",
        "filename": part.get_filename() or "",
        "params": {k: str(v) for k, v in (part["content-type"].params.items() if part["content-type"] else [])},
    }
    parts.append(info)
    if part.is_multipart():
        for i, child in enumerate(part.get_payload(), 1):
            walk(child, "%s.%d" % (path, i))
    else:
        # Decoding the body is where a bad transfer encoding shows: the
        # parser adds those defects to the part.
        content = part.get_content()
        if isinstance(content, str):
            info["text"] = content
        else:
            info["data"] = base64.b64encode(content).decode("ascii")
    for name, value in part.items():
        note("%s header %s" % (path, name), getattr(value, "defects", ()))
    note(path, part.defects)


walk(msg, "1")


def addresses(name):
    h = msg[name]
    if h is None:
        return []
    return [{"name": a.display_name, "addr": a.addr_spec} for a in h.addresses]


date = msg["date"]
out = {
    "defects": defects,
    "parts": parts,
    "headers": {name: [str(v) for v in msg.get_all(name, [])] for name in
                ("from", "to", "subject", "date", "message-id", "mime-version", "auto-submitted")},
    "from": addresses("from"),
    "to": addresses("to"),
    "date": date.datetime.isoformat() if date is not None and date.datetime is not None else "",
}
json.dump(out, sys.stdout)
