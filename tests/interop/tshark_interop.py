#!/usr/bin/env python3
"""Interop check of the smpp codec against Wireshark's SMPP dissector.

    tshark_interop.py INTEROP_CODEC

Writes every PDU of `interop_codec encode` into a capture file, one TCP
segment to port 2775 per PDU, has tshark dissect it as SMPP, and checks that
tshark saw each PDU whole (command_length, command_id, command_status,
sequence_number), read its fields as `interop_codec sample` says they were
built, and reported nothing malformed nor any expert error.
"""

import datetime
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

SMPP_PORT = 2775

# ---- capture file --------------------------------------------------------


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def packet(index, payload):
    """Ethernet / IPv4 / TCP carrying `payload`, 127.0.0.1 -> 127.0.0.1.

    Each PDU travels on a connection of its own (source port 40000 + index),
    so that a PDU tshark misreads cannot run into the next one.
    """
    addr = bytes([127, 0, 0, 1])
    sport = 40000 + index
    tcp = struct.pack("!HHIIBBHHH", sport, SMPP_PORT, 1, 1, 5 << 4, 0x18, 65535, 0, 0)
    pseudo = addr + addr + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp + payload)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), index + 1, 0x4000,
                     64, 6, 0, addr, addr)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    ethernet = bytes(6) + bytes(6) + struct.pack("!H", 0x0800)
    return ethernet + ip + tcp + payload


def write_pcap(path, payloads):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # LINKTYPE_ETHERNET
        for i, payload in enumerate(payloads):
            frame = packet(i, payload)
            f.write(struct.pack("<IIII", 1704110400 + i, 0, len(frame), len(frame)))
            f.write(frame)


# ---- tshark's view -------------------------------------------------------

PI_ERROR = 0x00800000  # epan/proto.h, severity of an expert error


def flatten(node, out):
    """Every field under `node`: name -> [values], in tree order. A subtree's
    name is kept too, with no values of its own, so that _ws.malformed shows."""
    for key, value in node.items():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, dict):
                out.setdefault(key, [])
                flatten(v, out)
            else:
                out.setdefault(key, []).append(v)
    return out


def dissect(pcap):
    env = dict(os.environ, TZ="UTC")
    r = subprocess.run(
        ["tshark", "-n", "-r", pcap, "-d", f"tcp.port=={SMPP_PORT},smpp",
         "-o", "tcp.analyze_sequence_numbers:FALSE",
         # data_coding 0 is GSM 03.38, one septet per octet, as the codec sends it.
         "-o", "smpp.decode_sms_over_smpp:GSM 7-bit", "-o", "smpp.gsm7_unpacked:TRUE",
         "-T", "json", "--no-duplicate-keys"],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"tshark exited {r.returncode}: {r.stderr.strip()}")
    return [p["_source"]["layers"] for p in json.loads(r.stdout)]


# ---- expected fields -----------------------------------------------------

# Fields of the sample that tshark shows under the same name.
SAME_NAME = {
    "system_id", "password", "system_type", "interface_version", "addr_ton", "addr_npi",
    "address_range", "service_type", "source_addr_ton", "source_addr_npi", "source_addr",
    "dest_addr_ton", "dest_addr_npi", "destination_addr", "protocol_id", "priority_flag",
    "replace_if_present_flag", "data_coding", "sm_default_msg_id", "message_id", "message_state",
    "error_code", "esme_addr_ton", "esme_addr_npi", "esme_addr", "receipted_message_id",
    "sar_msg_ref_num", "sar_total_segments", "sar_segment_seqnum", "source_port",
    "destination_port", "message_payload", "additional_status_info_text",
    "ms_availability_status",
}
RENAMED = {"sc_interface_version": "SC_interface_version"}
TIME_FIELDS = {"schedule_delivery_time", "validity_period", "final_date"}
OCTET_FIELDS = {"short_message", "message_payload"}
# Tag and value length of the sample's TLVs by SMPP 3.4 section 5.3.2 (a
# None length: the value's own). tshark reads a TLV's value by its tag's
# type whatever its length field says, so the lengths are checked here.
TLV_SPEC = {
    "additional_status_info_text": (0x001D, None),
    "receipted_message_id": (0x001E, None),
    "source_port": (0x020A, 2),
    "destination_port": (0x020B, 2),
    "sar_msg_ref_num": (0x020C, 2),
    "sar_total_segments": (0x020E, 1),
    "sar_segment_seqnum": (0x020F, 1),
    "sc_interface_version": (0x0210, 1),
    "ms_availability_status": (0x0422, 1),
    "message_payload": (0x0424, None),
    "message_state": (0x0427, 1),
}
# Fields that are TLVs in these PDUs and mandatory fields in the others.
TLV_ELSEWHERE = {"message_state": {"query_sm_resp"}}

# What tshark shows for an empty C-Octet String (smpp_handle_string_z in
# packet-smpp.c); any other empty one it leaves out of the tree.
EMPTY_SHOWN_AS = {"service_type": "(Default)", "address_range": "NULL"}


def smpp_time(value):
    """An SMPP time string (7.1.1): (absolute UTC datetime, None) or (None, relative seconds)."""
    yy, mo, dd, hh, mi, ss = (int(value[i:i + 2]) for i in range(0, 12, 2))
    if value[15] == "R":
        if yy or mo:
            raise ValueError(f"{value}: years and months have no fixed length in seconds")
        return None, float(((dd * 24 + hh) * 60 + mi) * 60 + ss)
    t = datetime.datetime(2000 + yy, mo, dd, hh, mi, ss, int(value[12]) * 100000)
    offset = datetime.timedelta(minutes=15 * int(value[13:15]))
    return (t - offset if value[15] == "+" else t + offset), None


def expected_fields(s, length):
    """tshark field name -> the values tshark should show for it, in tree order."""
    want = {
        "smpp.command_length": [length],
        "smpp.command_id": [s["command_id"]],
        "smpp.sequence_number": [s["sequence_number"]],
    }
    # tshark shows command_status only for responses, and does not dissect
    # the body of a response whose command_status is not 0.
    if s["command_id"] & 0x80000000:
        want["smpp.command_status"] = [s["command_status"]]
        if s["command_status"] != 0:
            return want

    def add(name, value):
        want.setdefault(f"smpp.{name}", []).append(value)

    tlvs = []
    for key, value in s.items():
        if key in TLV_SPEC and s["command"] not in TLV_ELSEWHERE.get(key, ()):
            tag, size = TLV_SPEC[key]
            if size is None:
                # A C-Octet String's length counts its NUL; an Octet String is hex here.
                size = len(value) // 2 if key == "message_payload" else len(value) + 1
            tlvs.append((tag, size))
    want["smpp.opt_param_tag"] = [tag for tag, _ in sorted(tlvs)]
    want["smpp.opt_param_len"] = [size for _, size in sorted(tlvs)]

    for key, value in s.items():
        if key in ("name", "command", "command_id", "command_status", "sequence_number"):
            continue
        if value == "" and key not in TIME_FIELDS | OCTET_FIELDS:
            if key in EMPTY_SHOWN_AS:
                add(key, EMPTY_SHOWN_AS[key])
            else:
                want[f"smpp.{key}"] = []
        elif key == "text":
            # What tshark decodes from short_message / message_payload.
            add("message_text", value)
        elif key in SAME_NAME:
            if key == "message_payload":
                add(key, bytes.fromhex(value))
            else:
                add(key, value)
        elif key in RENAMED:
            add(RENAMED[key], value)
        elif key == "short_message":
            add("sm_length", len(value) // 2)
            if value:
                add("message", bytes.fromhex(value))
        elif key == "esm_class":
            # tshark shows the three sub-fields of 5.2.12.
            add("esm.submit.msg_mode", value & 0x03)
            add("esm.submit.msg_type", (value >> 2) & 0x0F)
            add("esm.submit.features", (value >> 6) & 0x03)
        elif key == "registered_delivery":
            # And those of 5.2.17.
            add("regdel.receipt", value & 0x03)
            add("regdel.acks", (value >> 2) & 0x03)
            add("regdel.notif", (value >> 4) & 0x01)
        elif key in TIME_FIELDS:
            # tshark shows an absent (empty) time as a relative time of 0.
            absolute, relative = smpp_time(value) if value else (None, 0)
            if absolute is not None:
                add(key, absolute)
            elif key == "validity_period" and not value and s["command"] == "submit_multi":
                # packet-smpp.c (submit_multi) files an empty validity_period
                # under schedule_delivery_time_r: a Wireshark slip, the
                # octet is read in the right place.
                add("schedule_delivery_time_r", 0.0)
            else:
                add(f"{key}_r", float(relative))
        elif key == "dest_addresses":
            for d in value:
                if d["dest_flag"] == 1:
                    add("dest_addr_ton", d["dest_addr_ton"])
                    add("dest_addr_npi", d["dest_addr_npi"])
                    add("destination_addr", d["destination_addr"])
                else:
                    add("dl_name", d["dl_name"])
        elif key == "unsuccess_smes":
            for u in value:
                add("dest_addr_ton", u["dest_addr_ton"])
                add("dest_addr_npi", u["dest_addr_npi"])
                add("destination_addr", u["destination_addr"])
                add("error_status_code", u["error_status_code"])
        else:
            raise KeyError(f"{s['name']}: no tshark field known for {key}")
    return want


def tshark_value(expected, shown):
    """tshark's string for a field, converted to the type of the expected value."""
    if isinstance(expected, bytes):
        return bytes.fromhex(shown.replace(":", ""))
    if isinstance(expected, int):
        return int(shown, 0)
    if isinstance(expected, datetime.datetime):
        # "Jan  1, 2024 12:00:00.000000000 UTC"
        text = " ".join(shown.split())
        stamp, _, fraction = text.rpartition(" ")[0].partition(".")
        t = datetime.datetime.strptime(stamp, "%b %d, %Y %H:%M:%S")
        return t.replace(microsecond=int((fraction or "0")[:6].ljust(6, "0")))
    if isinstance(expected, float):
        return float(shown.split()[0])
    return shown


def check(samples, encoded, layers):
    failures = []
    checked = 0
    if len(layers) != len(encoded):
        failures.append(f"tshark read {len(layers)} frames, expected {len(encoded)}")
    for (name, pdu), frame in zip(encoded, layers):
        s = samples[name]
        where = f"tshark dissecting {name}"
        fields = flatten(frame, {})
        if "smpp" not in frame:
            failures.append(f"{where}: no SMPP layer")
            continue
        if "_ws.malformed" in fields:
            failures.append(f"{where}: malformed packet")
        for severity in fields.get("_ws.expert.severity", []):
            if int(severity, 0) >= PI_ERROR:
                messages = fields.get("_ws.expert.message", [])
                failures.append(f"{where}: expert error {messages}")
        if len(fields.get("smpp.command_id", [])) != 1:
            failures.append(f"{where}: {len(fields.get('smpp.command_id', []))} SMPP PDUs seen")
        for field, want in expected_fields(s, len(pdu)).items():
            shown = fields.get(field, [])
            try:
                got = [tshark_value(w, v) for w, v in zip(want, shown)]
            except (ValueError, TypeError) as e:
                failures.append(f"{where}: {field}: cannot read {shown}: {e}")
                continue
            if field in ("smpp.opt_param_tag", "smpp.opt_param_len"):
                # The order of TLVs is the encoder's choice.
                tags = [int(v, 0) for v in fields.get("smpp.opt_param_tag", [])]
                got = [g for _, g in sorted(zip(tags, got))] if len(tags) == len(got) else got
            checked += 1
            if len(shown) != len(want) or got != want:
                printable = [w.hex() if isinstance(w, bytes) else str(w) for w in want]
                failures.append(f"{where}: {field}: expected {printable}, tshark shows {shown}")
    return failures, checked


def run_codec(codec, mode):
    r = subprocess.run([codec, mode], capture_output=True, text=True, timeout=60, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"interop_codec {mode} exited {r.returncode}: {r.stderr.strip()}")
    return [line for line in r.stdout.splitlines() if line]


def main():
    if len(sys.argv) != 2:
        print("usage: tshark_interop.py INTEROP_CODEC", file=sys.stderr)
        return 2
    codec = sys.argv[1]
    samples = {s["name"]: s for s in map(json.loads, run_codec(codec, "sample"))}
    encoded = [(n, bytes.fromhex(h)) for n, h in (l.split(" ") for l in run_codec(codec, "encode"))]
    tmp = tempfile.mkdtemp(prefix="smpp-interop-")
    try:
        pcap = os.path.join(tmp, "sample.pcap")
        write_pcap(pcap, [pdu for _, pdu in encoded])
        layers = dissect(pcap)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    failures, checked = check(samples, encoded, layers)
    for f in failures:
        print(f"FAIL {f}")
    version = subprocess.run(["tshark", "--version"], capture_output=True, text=True,
                             check=False).stdout.split("\n", 1)[0]
    print(f"{version}: dissected {len(layers)} PDUs encoded by smpp, {checked} fields checked; "
          f"{len(failures)} mismatch(es)")
    return 0 if not failures and len(layers) == len(samples) else 1


if __name__ == "__main__":
    sys.exit(main())
