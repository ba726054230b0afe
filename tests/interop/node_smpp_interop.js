// Interop check of the smpp codec against node-smpp (the npm package
// `smpp`), an implementation we did not write.
//
//   node node_smpp_interop.js INTEROP_CODEC NODE_MODULES_DIR
//
// 1. node-smpp decodes every PDU `interop_codec encode` wrote; each field is
//    compared with `interop_codec sample` (the values the PDUs were built
//    from), and the text node-smpp decodes from short_message /
//    message_payload with the text the sample encoded.
// 2. node-smpp encodes the same sample; `interop_codec decode` decodes it;
//    the result must equal `interop_codec sample` field for field.
// Exits 0 only when everything matched; prints every difference otherwise.
'use strict';

const path = require('path');
const { spawnSync } = require('child_process');

if (process.argv.length !== 4) {
  console.error('usage: node node_smpp_interop.js INTEROP_CODEC NODE_MODULES_DIR');
  process.exit(2);
}
const [interop_codec, node_modules] = process.argv.slice(2);
const smpp = require(path.join(node_modules, 'smpp'));

// Keys of a sample object that are not fields of the PDU's body.
const meta_keys = new Set(['name', 'command', 'command_id', 'command_status',
  'sequence_number', 'text']);

// Where node-smpp's field names differ from the specification's (and ours).
const node_names = {
  // node-smpp calls TLV 0x020B `dest_port` (lib/defs.js); SMPP 3.4 section
  // 5.3.2.21 calls it destination_port.
  destination_port: 'dest_port',
  // node-smpp keeps submit_multi's list as `dest_address`, with the
  // dest_flag implied by the presence of `dl_name`, and submit_multi_resp's
  // as `unsuccess_sme`.
  dest_addresses: 'dest_address',
  unsuccess_smes: 'unsuccess_sme',
};
const our_names = Object.fromEntries(Object.entries(node_names).map(([k, v]) => [v, k]));

let failures = 0;
function fail(where, message) {
  failures++;
  console.log(`FAIL ${where}: ${message}`);
}

function run_codec(mode, input) {
  const r = spawnSync(interop_codec, [mode], {
    input: input || '', encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60000,
  });
  if (r.error) throw r.error;
  if (r.stderr) process.stderr.write(r.stderr);
  return { status: r.status, lines: r.stdout.split('\n').filter((l) => l.length > 0) };
}

// JSON with sorted keys, so that two objects compare by content only.
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function compare(where, expected, actual) {
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const key of keys) {
    const e = canonical(expected[key]);
    const a = canonical(actual[key]);
    if (e !== a) fail(where, `${key}: expected ${e}, got ${a}`);
  }
}

function params_of(command) {
  return (smpp.commands[command] && smpp.commands[command].params) || {};
}

// Is `node_key` carried as raw octets (a Buffer) by node-smpp?
function is_octets(command, node_key) {
  const param = params_of(command)[node_key];
  if (param) return param.type === smpp.types.buffer;
  const tlv = smpp.tlvs[node_key];
  return tlv !== undefined && tlv.type === smpp.types.tlv.buffer;
}

// A value node-smpp decoded, in the shape `interop_codec` prints it.
function from_node(key, v) {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (key === 'dest_addresses' && Array.isArray(v)) {
    return v.map((d) => ('dl_name' in d
      ? { dest_flag: 2, dl_name: d.dl_name }
      : { dest_flag: 1, dest_addr_ton: d.dest_addr_ton, dest_addr_npi: d.dest_addr_npi,
        destination_addr: d.destination_addr }));
  }
  return v;
}

// A sample value in the shape node-smpp takes it.
function to_node(command, key, v) {
  if (key === 'dest_addresses') {
    return v.map((d) => (d.dest_flag === 2
      ? { dl_name: d.dl_name }
      : { dest_addr_ton: d.dest_addr_ton, dest_addr_npi: d.dest_addr_npi,
        destination_addr: d.destination_addr }));
  }
  if (is_octets(command, node_names[key] || key)) return Buffer.from(v, 'hex');
  return v;
}

// node-smpp's reading of the octets as they are: its decode filters turn
// short_message / message_payload into text and times into Date objects,
// which would hide what was on the wire.
function parse_raw(buffer) {
  const pdu = Object.create(smpp.PDU.prototype);
  pdu._filter = () => {};
  pdu.fromBuffer(buffer);
  return pdu;
}

// ---- 1. node-smpp decodes what the codec encoded --------------------------

function check_node_decodes(samples, encoded) {
  let checked = 0;
  for (const line of encoded) {
    const [name, hex] = line.split(' ');
    const s = samples.get(name);
    const where = `node-smpp decoding ${name}`;
    if (!s) {
      fail(where, 'not in the sample');
      continue;
    }
    checked++;
    const buffer = Buffer.from(hex, 'hex');
    let pdu;
    try {
      pdu = parse_raw(buffer);
    } catch (e) {
      fail(where, `node-smpp threw ${e}`);
      continue;
    }
    const expected = {};
    const actual = {};
    expected.command_length = buffer.length;
    actual.command_length = pdu.command_length;
    for (const key of Object.keys(s)) {
      if (key === 'name' || key === 'text') continue;
      // An error response goes without its body (SMPP 3.4 4.4.2): its empty
      // fields are simply absent on the wire.
      if (buffer.length === 16 && s[key] === '') continue;
      expected[key] = s[key];
      actual[key] = from_node(key, pdu[node_names[key] || key]);
    }
    // TLVs node-smpp found that the sample did not put there; numeric keys
    // are tags node-smpp does not know.
    const params = params_of(pdu.command);
    for (const key of Object.keys(pdu)) {
      if (/^\d+$/.test(key)) {
        actual[`tlv_${key}`] = from_node(key, pdu[key]);
      } else if (key in smpp.tlvs && !(key in params) && !((our_names[key] || key) in s)) {
        actual[our_names[key] || key] = from_node(key, pdu[key]);
      }
    }
    compare(where, expected, actual);

    if (s.text !== undefined) {
      // With its filters, node-smpp decodes the text as data_coding says.
      const decoded = new smpp.PDU(buffer);
      const carrier = s.message_payload !== undefined ? 'message_payload' : 'short_message';
      const text = decoded[carrier] && decoded[carrier].message;
      if (text !== s.text) {
        fail(`${where} (text)`, `expected ${JSON.stringify(s.text)}, got ${JSON.stringify(text)}`);
      }
    }
  }
  return checked;
}

// ---- 2. the codec decodes what node-smpp encoded --------------------------

function node_encode(s) {
  const options = { sequence_number: s.sequence_number, command_status: s.command_status };
  const params = params_of(s.command);
  for (const [key, value] of Object.entries(s)) {
    if (meta_keys.has(key)) continue;
    const node_key = node_names[key] || key;
    if (!(node_key in params) && !(node_key in smpp.tlvs)) {
      fail(`node-smpp encoding ${s.name}`, `node-smpp has no field ${key}`);
      continue;
    }
    options[node_key] = to_node(s.command, key, value);
  }
  // node-smpp writes only the header of a PDU whose command_status is not 0
  // (lib/pdu.js, toBuffer), as SMPP 5.0 requires of error responses; the
  // codec must accept that (the sample's error response has an empty body).
  return new smpp.PDU(s.command, options).toBuffer();
}

function check_codec_decodes(samples, encoded) {
  const ours = new Map(encoded.map((l) => l.split(' ')));
  const lines = [];
  const differ = [];
  for (const s of samples.values()) {
    try {
      const hex = node_encode(s).toString('hex');
      lines.push(`${s.name} ${hex}`);
      if (hex !== ours.get(s.name)) differ.push(s.name);
    } catch (e) {
      fail(`node-smpp encoding ${s.name}`, `node-smpp threw ${e}`);
    }
  }
  // Not a failure: the order of TLVs is the encoder's choice. The fields are
  // what must agree.
  if (differ.length > 0) console.log(`note: octets differ from smpp's for ${differ.join(', ')}`);
  const decoded = run_codec('decode', `${lines.join('\n')}\n`);
  if (decoded.status !== 0) fail('interop_codec decode', `exit status ${decoded.status}`);
  const seen = new Set();
  for (const line of decoded.lines) {
    const d = JSON.parse(line);
    const where = `smpp decoding node-smpp's ${d.name}`;
    seen.add(d.name);
    const s = samples.get(d.name);
    if (d.error !== undefined) {
      const hex = lines.find((l) => l.startsWith(`${d.name} `));
      fail(where, `decode failed: ${d.error} (field "${d.field}", offset ${d.offset}); ${hex}`);
      continue;
    }
    const expected = Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'text'));
    compare(where, expected, d);
  }
  for (const name of samples.keys()) {
    if (!seen.has(name)) fail(`smpp decoding node-smpp's ${name}`, 'no output');
  }
  return seen.size;
}

function main() {
  const sample = run_codec('sample');
  const encoded = run_codec('encode');
  if (sample.status !== 0 || encoded.status !== 0) {
    console.log('FAIL interop_codec could not build the sample');
    return 1;
  }
  const samples = new Map(sample.lines.map((l) => JSON.parse(l)).map((s) => [s.name, s]));
  const n1 = check_node_decodes(samples, encoded.lines);
  const n2 = check_codec_decodes(samples, encoded.lines);
  console.log(`node-smpp ${require(path.join(node_modules, 'smpp', 'package.json')).version}: ` +
    `decoded ${n1} PDUs encoded by smpp; smpp decoded ${n2} PDUs encoded by node-smpp; ` +
    `${failures} mismatch(es)`);
  return failures === 0 && n1 === samples.size && n2 === samples.size ? 0 : 1;
}

process.exit(main());
