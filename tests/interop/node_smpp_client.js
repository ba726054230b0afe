// A node-smpp client (the npm package `smpp`, a stack we did not write)
// for smsc-sim: the interop check "smsc-sim accepts a node-smpp client"
// and the comparison figure of the session benchmark.
//
//   node node_smpp_client.js NODE_MODULES_DIR --port P [--host H]
//        [--system-id ID] [--password PW] [--messages N] [--window W]
//        [--idle-ms MS] [--check] [--nagle] [--timeout-s S]
//
// Binds transceiver, stays idle for --idle-ms (sending enquire_link every
// third of it, and answering the SMSC's), submits N submit_sm with
// registered_delivery=1, keeping at most W without a response, answers
// every deliver_sm, waits for every resp and every receipt, unbinds and
// waits for unbind_resp.
// Prints one JSON line: messages, window, seconds (bound to last receipt),
// submit_sm_per_s, resps, resp_errors, receipts, receipts_matched, unbound.
//
// Without --check (the benchmark) every message is the same GSM-7 text,
// handed to node-smpp as ready octets so that its text encoder costs
// nothing: the figure is node-smpp's PDU and socket path alone, like
// session_bench's. With --check, texts go through node-smpp's encoders
// (GSM-7 with extension characters, and one UCS-2 text), each receipt's id
// (receipted_message_id, else the text's id:) must name a resp's
// message_id, and the exit status is 0 only when every submit got
// ESME_ROK, every message exactly one receipt, and the unbind its resp.
//
// The socket gets TCP_NODELAY, as smpp::esme_client's does, unless
// --nagle. node-smpp leaves Nagle's algorithm on, and against smsc-sim
// (receipts on) that costs it about a delayed ACK per window: a
// deliver_sm_resp held back by Nagle reaches the SMSC alone, the SMSC has
// nothing to answer it with, so its ACK waits ~40 ms and the next
// submit_sm waits for that ACK. Measured on the 2-core machine: 403
// submit_sm/s at window 16 and about 1,550 at window 64 with Nagle,
// 10,000-18,000 at either without. The benchmark compares the stacks, not
// that stall.
'use strict';

const path = require('path');

function usage() {
  console.error('usage: node node_smpp_client.js NODE_MODULES_DIR --port P [--host H] ' +
    '[--system-id ID] [--password PW] [--messages N] [--window W] [--idle-ms MS] [--check] ' +
    '[--nagle] [--timeout-s S]');
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.length < 1) usage();
const smpp = require(path.join(args[0], 'smpp'));
const o = {
  host: '127.0.0.1', port: 0, system_id: 'bench', password: 'bench', messages: 1000,
  window: 64, idle_ms: 0, check: false, nagle: false, timeout_s: 120,
};
for (let i = 1; i < args.length; i++) {
  const a = args[i];
  if (a === '--check' || a === '--nagle') {
    o[a.slice(2)] = true;
    continue;
  }
  const v = args[++i];
  if (v === undefined) usage();
  if (a === '--host') o.host = v;
  else if (a === '--port') o.port = Number(v);
  else if (a === '--system-id') o.system_id = v;
  else if (a === '--password') o.password = v;
  else if (a === '--messages') o.messages = Number(v);
  else if (a === '--window') o.window = Number(v);
  else if (a === '--timeout-s') o.timeout_s = Number(v);
  else if (a === '--idle-ms') o.idle_ms = Number(v);
  else usage();
}
if (!(o.port > 0) || !(o.messages > 0) || !(o.window > 0) || !(o.idle_ms >= 0)) usage();

const bench_text = Buffer.from('Your code is 482913. It expires in 5 minutes.', 'latin1');

// --check: the texts node-smpp encodes itself; message 0 is UCS-2.
function check_text(i) {
  if (i === 0) return { data_coding: 0x08, short_message: 'Ваш код: 5930. Не сообщайте его никому.' };
  return { data_coding: 0x00, short_message: `node-smpp ${i}: {ok} [x] ~^| €5 @home £1` };
}

const r = {
  messages: o.messages, window: o.window, seconds: 0, submit_sm_per_s: 0, resps: 0,
  resp_errors: 0, receipts: 0, receipts_matched: 0, unbound: false,
};
const problems = [];
const resp_ids = new Set();
const receipt_ids = [];  // --check: matched at the end (a receipt may overtake its resp)
let sent = 0;
let outstanding = 0;
let started = 0n;
let finished = false;

// A receipt's id may come in another base than the resp's (decimal resp,
// hex receipt, as some SMSCs do): compared as numbers when both read as such.
function same_id(resp_id, receipt_id) {
  if (resp_id === receipt_id) return true;
  try {
    const as_dec = /^[0-9]+$/.test(resp_id) ? BigInt(resp_id) : null;
    const as_hex = /^[0-9a-fA-F]+$/.test(receipt_id) ? BigInt(`0x${receipt_id}`) : null;
    return as_dec !== null && as_hex !== null && as_dec === as_hex;
  } catch (e) {
    return false;
  }
}

function receipt_id_of(pdu) {
  if (pdu.receipted_message_id) return pdu.receipted_message_id.replace(/\0+$/, '');
  const sm = pdu.short_message;
  const text = Buffer.isBuffer(sm) ? sm.toString('latin1') : (sm && sm.message) || '';
  const m = /(?:^|\s)id:\s*(\S+)/i.exec(text);
  return m ? m[1] : null;
}

const session = smpp.connect({
  host: o.host, port: o.port,
  auto_enquire_link_period: o.idle_ms > 0 ? Math.max(Math.floor(o.idle_ms / 3), 50) : 0,
});

function finish(ok) {
  if (finished) return;
  finished = true;
  if (o.check) {
    if (r.resps !== o.messages) problems.push(`${r.resps} resps for ${o.messages} submits`);
    if (r.resp_errors) problems.push(`${r.resp_errors} submits refused`);
    if (r.receipts !== o.messages) problems.push(`${r.receipts} receipts for ${o.messages} submits`);
    const ids = [...resp_ids];
    for (const id of receipt_ids) {
      if (resp_ids.has(id) || ids.some((x) => same_id(x, id))) r.receipts_matched++;
      else problems.push(`receipt for unknown message_id ${id}`);
    }
    if (!r.unbound) problems.push('no unbind_resp');
  }
  console.log(JSON.stringify(r));
  for (const p of problems) console.log(`FAIL ${p}`);
  process.exit(ok && problems.length === 0 ? 0 : 1);
}

const timer = setTimeout(() => {
  problems.push(`timed out after ${o.timeout_s} s: ${r.resps}/${o.messages} resps, ` +
    `${r.receipts}/${o.messages} receipts`);
  finish(false);
}, o.timeout_s * 1000);

function on_resp(pdu) {
  outstanding--;
  r.resps++;
  if (pdu.command_status !== 0) {
    r.resp_errors++;
    if (problems.length < 10) problems.push(`submit_sm_resp status 0x${pdu.command_status.toString(16)}`);
  } else if (o.check) {
    if (resp_ids.has(pdu.message_id)) problems.push(`message_id ${pdu.message_id} given twice`);
    resp_ids.add(pdu.message_id);
  }
  pump();
  done_yet();
}

function pump() {
  while (outstanding < o.window && sent < o.messages) {
    const i = sent++;
    outstanding++;
    const to = `3706${String(i % 10000000).padStart(7, '0')}`;
    const fields = o.check ? check_text(i) : { data_coding: 0, short_message: bench_text };
    session.submit_sm({
      source_addr_ton: 5, source_addr: 'ACME', dest_addr_ton: 1, dest_addr_npi: 1,
      destination_addr: to, registered_delivery: 1, ...fields,
    }, on_resp);
  }
}

function done_yet() {
  if (r.resps < o.messages || r.receipts < o.messages || r.seconds) return;
  const ns = Number(process.hrtime.bigint() - started);
  r.seconds = ns / 1e9;
  r.submit_sm_per_s = Math.round(o.messages / r.seconds);
  session.unbind((pdu) => {
    r.unbound = pdu.command_status === 0;
    clearTimeout(timer);
    session.close(() => finish(true));
  });
}

session.on('connect', () => {
  if (!o.nagle) session.socket.setNoDelay(true);
  session.bind_transceiver({ system_id: o.system_id, password: o.password }, (pdu) => {
    if (pdu.command_status !== 0) {
      problems.push(`bind_transceiver refused: status 0x${pdu.command_status.toString(16)}`);
      finish(false);
      return;
    }
    setTimeout(() => {
      started = process.hrtime.bigint();
      pump();
    }, o.idle_ms);
  });
});
session.on('deliver_sm', (pdu) => {
  session.send(pdu.response());
  r.receipts++;
  if (o.check) {
    const id = receipt_id_of(pdu);
    if (id === null) problems.push('a deliver_sm without a receipt id');
    else receipt_ids.push(id);
    if ((pdu.esm_class & 0x3C) !== 0x04) problems.push(`deliver_sm with esm_class 0x${pdu.esm_class.toString(16)}`);
  }
  done_yet();
});
session.on('enquire_link', (pdu) => session.send(pdu.response()));
session.on('unbind', (pdu) => {
  session.send(pdu.response());
  problems.push('smsc-sim unbound');
  finish(false);
});
session.on('error', (e) => {
  problems.push(`connection error: ${e.message}`);
  finish(false);
});
session.on('close', () => {
  if (!finished && !r.unbound) {
    problems.push('connection closed before the end');
    finish(false);
  }
});
