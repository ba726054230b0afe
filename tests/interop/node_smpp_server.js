// A small SMSC built on node-smpp (the npm package `smpp`), a stack we did
// not write, for the interop check of the session layer.
//
//   node node_smpp_server.js NODE_MODULES_DIR --system-id ID --password PW
//                            [--receipt-delay MS]
//
// Listens on 127.0.0.1, port chosen by the OS, and prints
// `listening on 127.0.0.1:PORT` on stdout. It
//   - accepts bind_transmitter / bind_receiver / bind_transceiver with the
//     given system_id and password (ESME_RINVSYSID / ESME_RINVPASWD
//     otherwise, then closes);
//   - answers submit_sm with a unique message_id (ESME_RINVBNDSTS when the
//     connection is not bound to send);
//   - for registered_delivery (bits 1-0 = 01 or 10), sends a delivery
//     receipt as deliver_sm: esm_class 0x04, receipted_message_id and
//     message_state TLVs, and the Appendix B text form, on the same
//     connection when it is a transceiver, else on a receiver of the same
//     system_id (held until one binds);
//   - answers enquire_link, and unbind (then closes).
// On SIGTERM it prints one summary line (`summary {...}`, JSON) on stdout
// and exits 0.
'use strict';

const path = require('path');

function usage() {
  console.error('usage: node node_smpp_server.js NODE_MODULES_DIR --system-id ID --password PW ' +
    '[--receipt-delay MS]');
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.length < 1) usage();
const smpp = require(path.join(args[0], 'smpp'));
const options = { system_id: null, password: null, receipt_delay: 0 };
for (let i = 1; i < args.length; i += 2) {
  const value = args[i + 1];
  if (value === undefined) usage();
  if (args[i] === '--system-id') options.system_id = value;
  else if (args[i] === '--password') options.password = value;
  else if (args[i] === '--receipt-delay') options.receipt_delay = Number(value);
  else usage();
}
if (options.system_id === null || options.password === null) usage();

const counts = {
  binds: 0, bind_refusals: 0, submit_sm: 0, submit_sm_refused: 0, receipts_sent: 0,
  deliver_sm_resp: 0, deliver_sm_resp_errors: 0, enquire_link: 0, unbind: 0,
  generic_nack: 0, texts: {},
};

let next_id = 0x5A0000;     // message ids: 8 hex digits, unique for this process
const held_receipts = [];   // for a transmitter's messages while no receiver is bound

// YYMMDDhhmm in UTC, the date form of the receipt text.
function receipt_date(d) {
  const two = (n) => String(n).padStart(2, '0');
  return two(d.getUTCFullYear() % 100) + two(d.getUTCMonth() + 1) + two(d.getUTCDate()) +
    two(d.getUTCHours()) + two(d.getUTCMinutes());
}

// The first 20 characters of the text node-smpp decoded, printable ASCII
// kept and anything else shown as '?': receipts are ASCII in practice.
function receipt_excerpt(text) {
  return Array.from(text).slice(0, 20)
    .map((c) => (c >= ' ' && c <= '~' ? c : '?')).join('');
}

function receipt_for(submit, message_id, submitted_at) {
  const text = `id:${message_id} sub:001 dlvrd:001 submit date:${receipt_date(submitted_at)} ` +
    `done date:${receipt_date(new Date())} stat:DELIVRD err:000 ` +
    `text:${receipt_excerpt(submit.text)}`;
  return {
    service_type: '',
    source_addr_ton: submit.dest_addr_ton,
    source_addr_npi: submit.dest_addr_npi,
    source_addr: submit.destination_addr,
    dest_addr_ton: submit.source_addr_ton,
    dest_addr_npi: submit.source_addr_npi,
    destination_addr: submit.source_addr,
    esm_class: 0x04,  // SMSC delivery receipt (5.2.12)
    data_coding: 0,
    // Octets as they are: node-smpp would otherwise re-encode the text in
    // GSM 03.38, and receipt text travels as ASCII.
    short_message: Buffer.from(text, 'latin1'),
    receipted_message_id: message_id,
    message_state: 2,  // DELIVERED (5.2.28)
  };
}

const sessions = new Set();

function receiver_for(system_id) {
  for (const s of sessions) {
    if (s.bound_as && s.bound_as !== 'bind_transmitter' && s.bound_system_id === system_id) return s;
  }
  return null;
}

function send_receipt(session, receipt) {
  const sent = session.deliver_sm(receipt, (resp) => {
    if (resp.command_status === 0) counts.deliver_sm_resp++;
    else counts.deliver_sm_resp_errors++;
  });
  if (sent) counts.receipts_sent++;
  return sent;
}

function route_receipt(origin, receipt) {
  let target = origin.bound_as === 'bind_transceiver' && !origin.closed ? origin : null;
  if (!target) target = receiver_for(origin.bound_system_id);
  if (!target || !send_receipt(target, receipt)) held_receipts.push([origin.bound_system_id, receipt]);
}

function release_held(session) {
  for (let i = 0; i < held_receipts.length;) {
    const [system_id, receipt] = held_receipts[i];
    if (system_id === session.bound_system_id && send_receipt(session, receipt)) {
      held_receipts.splice(i, 1);
    } else {
      i++;
    }
  }
}

function on_bind(session, pdu) {
  if (session.bound_as) {
    session.send(pdu.response({ command_status: smpp.ESME_RALYBND }));
    return;
  }
  let status = 0;
  if (pdu.system_id !== options.system_id) status = smpp.ESME_RINVSYSID;
  else if (pdu.password !== options.password) status = smpp.ESME_RINVPASWD;
  if (status !== 0) {
    counts.bind_refusals++;
    session.send(pdu.response({ command_status: status }), () => session.close());
    return;
  }
  counts.binds++;
  session.bound_as = pdu.command;
  session.bound_system_id = pdu.system_id;
  session.send(pdu.response({ system_id: 'node-smsc' }));
  if (pdu.command !== 'bind_transmitter') release_held(session);
}

function on_submit(session, pdu) {
  if (!session.bound_as || session.bound_as === 'bind_receiver') {
    counts.submit_sm_refused++;
    session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
    return;
  }
  counts.submit_sm++;
  const message_id = (next_id++).toString(16).toUpperCase().padStart(8, '0');
  const sm = pdu.short_message;
  const submit = {
    source_addr_ton: pdu.source_addr_ton, source_addr_npi: pdu.source_addr_npi,
    source_addr: pdu.source_addr, dest_addr_ton: pdu.dest_addr_ton,
    dest_addr_npi: pdu.dest_addr_npi, destination_addr: pdu.destination_addr,
    text: sm && typeof sm.message === 'string' ? sm.message : '',
  };
  const dc = `data_coding_${pdu.data_coding}`;
  counts.texts[dc] = (counts.texts[dc] || 0) + 1;
  const submitted_at = new Date();
  session.send(pdu.response({ message_id }));
  const wanted = pdu.registered_delivery & 0x03;
  if (wanted === 1 || wanted === 2) {
    const deliver = () => route_receipt(session, receipt_for(submit, message_id, submitted_at));
    if (options.receipt_delay > 0) setTimeout(deliver, options.receipt_delay);
    else setImmediate(deliver);
  }
}

const server = smpp.createServer((session) => {
  sessions.add(session);
  session.on('error', (e) => console.error(`node_smpp_server: connection error: ${e.message}`));
  session.on('close', () => {
    session.closed = true;
    sessions.delete(session);
  });
  for (const bind of ['bind_transmitter', 'bind_receiver', 'bind_transceiver']) {
    session.on(bind, (pdu) => on_bind(session, pdu));
  }
  session.on('submit_sm', (pdu) => on_submit(session, pdu));
  session.on('enquire_link', (pdu) => {
    counts.enquire_link++;
    session.send(pdu.response());
  });
  session.on('unbind', (pdu) => {
    counts.unbind++;
    session.send(pdu.response(), () => session.close());
  });
  session.on('generic_nack', () => counts.generic_nack++);
  session.on('unknown', (pdu) => session.send(pdu.response()));
});

server.on('error', (e) => {
  console.error(`node_smpp_server: ${e.message}`);
  process.exit(1);
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on ${address.address}:${address.port}`);
});

process.on('SIGTERM', () => {
  counts.held_receipts = held_receipts.length;
  console.log(`summary ${JSON.stringify(counts)}`);
  for (const s of sessions) s.destroy();
  server.close();
  process.exit(0);
});
