#!/usr/bin/env node
'use strict';
// Load harness for the support-chat Socket.IO protocol, built on the official `socket.io-client`.
//
// Modes
//   --mode load      (default) connect users+admins, send --rate msgs/s for --duration s, report.
//   --mode find-max  connect once, step the rate up until a step fails (p99 >= --p99-ms, any lost or
//                    extra delivery, achieved send rate < 95% of target, or a disconnect), bisect,
//                    confirm, then run --half-duration s at 50% of the max and report percentiles.
//   --mode ramp      open idle connections until failure / --max-conns / --max-time / --max-rss-mb,
//                    sample server RSS (--pids) and report idle connections per GB.
//
// Progress goes to stderr; the last line on stdout is one JSON summary.
// All loops are bounded in count and time (--max-run-seconds is a hard stop for every mode).

const { performance, monitorEventLoopDelay } = require('node:perf_hooks');
const fs = require('node:fs');
const os = require('node:os');
const { io } = require('socket.io-client');
const jwt = require('jsonwebtoken');

// ------------------------------------------------------------------ options
const DEFAULTS = {
  url: 'http://127.0.0.1:3000',
  users: 200,
  admins: 5,
  rate: 100,
  duration: 10,
  transport: 'websocket',
  secret: process.env.JWT_SECRET || '',
  'login-url': '',
  password: process.env.HARNESS_PASSWORD || '',
  mode: 'load',
  para: 'admin',
  'user-prefix': 'user',
  'admin-prefix': 'admin',
  'dup-model': 'seed',
  'sender-echo': 'false', // true: the sender's own socket gets one copy of its message (Soporte's multi-tab sync)
  ack: 'false', // true: every message asks for the server's acknowledgement, as a browser does (Soporte's {ok, id, fecha})
  'with-credentials': 'auto',
  'client-deflate': 'true',
  pids: '',
  comm: '',
  'stats-url': '',
  label: '',
  out: '',
  'connect-concurrency': 50,
  'connect-timeout': 20000,
  'drain-ms': 2000,
  warmup: 5,
  // find-max
  'p99-ms': 50,
  'rate-start': 200,
  'rate-max': 100000,
  'rate-growth': 1.5,
  'step-duration': 10,
  bisect: 3,
  'confirm-duration': 15,
  'confirm-attempts': 3, // Soporte: the reference's fixed three (the max, then 10% less twice)
  'half-duration': 20,
  // ramp
  'max-conns': 19000,
  'max-time': 120,
  'ramp-rate': 500,
  'max-rss-mb': 8192,
  'max-failures': 100,
  hold: 10,
  'max-run-seconds': 900,
  help: false,
};

function parseArgs(argv) {
  const o = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    a = a.slice(2);
    let v;
    const eq = a.indexOf('=');
    if (eq >= 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    } else if (a === 'help') {
      v = true;
    } else {
      v = argv[++i];
    }
    if (!(a in DEFAULTS)) throw new Error(`unknown option --${a}`);
    o[a] = typeof DEFAULTS[a] === 'number' ? Number(v) : v;
    if (typeof DEFAULTS[a] === 'number' && !Number.isFinite(o[a])) throw new Error(`--${a} needs a number`);
  }
  return o;
}

const USAGE = `usage: node load.js --url http://127.0.0.1:3000 [--users 200] [--admins 5] [--rate 1000]
  [--duration 10] [--transport websocket|polling|both] (--secret S | --login-url URL --password P)
  [--mode load|find-max|ramp] [--pids label:pid,...] [--comm NAME,...] [--stats-url URL,...] [--label NAME] [--out FILE]
  find-max: [--p99-ms 50] [--rate-start 200] [--rate-growth 1.5] [--step-duration 10] [--bisect 3]
            [--confirm-duration 15] [--confirm-attempts 3] [--half-duration 20]
  ramp:     [--max-conns 19000] [--max-time 120] [--ramp-rate 500] [--max-rss-mb 8192] [--hold 10]
  other:    [--para admin] [--ack true|false] [--dup-model seed|union] [--with-credentials auto|true|false] [--client-deflate true|false]
            [--connect-concurrency 50] [--connect-timeout 20000] [--drain-ms 2000] [--warmup 5]
            [--max-run-seconds 900]
--url may list several base URLs (comma separated); clients are spread round-robin over them.`;

const opt = parseArgs(process.argv.slice(2));
if (opt.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!opt.secret && !opt['login-url']) {
  console.error('need --secret (or JWT_SECRET) or --login-url\n' + USAGE);
  process.exit(2);
}
if (!['websocket', 'polling', 'both'].includes(opt.transport)) throw new Error('bad --transport');
if (!['load', 'find-max', 'ramp'].includes(opt.mode)) throw new Error('bad --mode');
if (!['seed', 'union'].includes(opt['dup-model'])) throw new Error('bad --dup-model');

const URLS = String(opt.url).split(',').filter(Boolean);
const TRANSPORTS = { websocket: ['websocket'], polling: ['polling'], both: ['polling', 'websocket'] }[opt.transport];
// The engine.io cookie jar (withCredentials in Node) is what keeps polling requests sticky behind a
// cookie-based load balancer; for websocket-only there is a single HTTP request and it is not needed.
const ACK = opt.ack === 'true';
const WITH_CREDENTIALS = opt['with-credentials'] === 'auto' ? opt.transport !== 'websocket' : opt['with-credentials'] === 'true';
const T0_WALL = Date.now();
const RUN_ID = `r${T0_WALL.toString(36)}`;
const HARD_DEADLINE = performance.now() + opt['max-run-seconds'] * 1000;

const log = (...a) => console.error(`[harness +${((Date.now() - T0_WALL) / 1000).toFixed(1)}s]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const timeLeft = () => HARD_DEADLINE - performance.now();

// ------------------------------------------------------------------ stats helpers
function pct(arr) {
  const n = arr.length;
  if (!n) return { n: 0 };
  const a = Float64Array.from(arr).sort();
  const q = (p) => a[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[i];
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return { n, mean: r3(sum / n), p50: r3(q(0.5)), p90: r3(q(0.9)), p99: r3(q(0.99)), p999: r3(q(0.999)), max: r3(a[n - 1]) };
}

const CLK_TCK = 100; // Linux USER_HZ
function parsePids(s) {
  return String(s || '')
    .split(',')
    .filter(Boolean)
    .map((x, i) => {
      const [label, pid] = x.includes(':') ? x.split(':') : [`p${i}`, x];
      return { label, pid: Number(pid) };
    });
}
const PIDS = parsePids(opt.pids);

function procSample(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(f[11]) + Number(f[12]); // utime + stime
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    // Soporte: the main thread's voluntary context switches, each a wake-up of its event
    // loop (it slept in epoll and something woke it). They go with the number of processes
    // that handle each message; fewer of them alone did not lower the CPU
    // (docs/performance.md).
    const w = /voluntary_ctxt_switches:\s+(\d+)/.exec(status);
    return { cpuTicks, rss: m ? Number(m[1]) * 1024 : 0, wakeups: w ? Number(w[1]) : 0 };
  } catch {
    return null;
  }
}
// --comm NAME[,NAME]: sum CPU/RSS over every process whose /proc/<pid>/comm equals NAME
// (e.g. postgres backends that the pool opens lazily, redis-server, traefik).
const COMMS = String(opt.comm || '').split(',').filter(Boolean);
function commSample(name) {
  let cpuTicks = 0;
  let rss = 0;
  let n = 0;
  const perPid = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue;
    let c;
    try {
      c = fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (c !== name) continue;
    const s = procSample(d);
    if (!s) continue;
    perPid.set(d, s);
    cpuTicks += s.cpuTicks;
    rss += s.rss;
    n++;
  }
  return { cpuTicks, rss, n, perPid };
}
function sampleAll() {
  const t = performance.now();
  const procs = PIDS.map((p) => ({ ...p, s: procSample(p.pid) }));
  for (const name of COMMS) procs.push({ label: name, comm: true, s: commSample(name) });
  return { t, procs, self: process.cpuUsage() };
}
function diffSamples(a, b) {
  const wall = (b.t - a.t) / 1000;
  const out = {};
  for (let i = 0; i < b.procs.length; i++) {
    const pa = a.procs[i].s;
    const pb = b.procs[i].s;
    if (!pa || !pb) {
      out[b.procs[i].label] = null;
      continue;
    }
    let ticks = pb.cpuTicks - pa.cpuTicks;
    let wakeups = pb.wakeups - pa.wakeups;
    if (pb.perPid) {
      // per-process delta: a process that appeared during the interval (a Postgres backend
      // a pool opened meanwhile) spent all its CPU time within it, so it counts from zero;
      // one that exited is lost either way
      ticks = 0;
      wakeups = 0;
      for (const [pid, s1] of pb.perPid) {
        const s0 = pa.perPid.get(pid);
        ticks += s1.cpuTicks - (s0 ? s0.cpuTicks : 0);
        wakeups += s1.wakeups - (s0 ? s0.wakeups : 0);
      }
    }
    out[b.procs[i].label] = {
      cpu_pct: Math.round((ticks / CLK_TCK / wall) * 1000) / 10,
      rss_mb: Math.round(pb.rss / 1048576),
      wakeups_per_s: Math.round(wakeups / wall), // Soporte: see procSample
    };
    if (pb.perPid) out[b.procs[i].label].n = pb.n;
  }
  const du = b.self.user + b.self.system - (a.self.user + a.self.system);
  out.harness = { cpu_pct: Math.round((du / 1e6 / wall) * 1000) / 10, rss_mb: Math.round(process.memoryUsage.rss() / 1048576) };
  return out;
}
function totalRss() {
  let sum = 0;
  for (const p of PIDS) {
    const s = procSample(p.pid);
    if (s) sum += s.rss;
  }
  return sum;
}

async function fetchStats() {
  const urls = String(opt['stats-url'] || '').split(',').filter(Boolean);
  const out = [];
  for (const u of urls) {
    try {
      const r = await fetch(u, { signal: AbortSignal.timeout(2000) });
      out.push(await r.json());
    } catch (e) {
      out.push({ url: u, error: e.message });
    }
  }
  return out;
}

// ------------------------------------------------------------------ identities & tokens
function identities() {
  const ids = [];
  for (let i = 0; i < opt.admins; i++) {
    const user = i === 0 ? opt['admin-prefix'] : `${opt['admin-prefix']}${i + 1}`;
    ids.push({ user, nombre: `Admin ${i + 1}`, rol: 'admin' });
  }
  for (let i = 0; i < opt.users; i++) ids.push({ user: `${opt['user-prefix']}${i + 1}`, nombre: `Usuario ${i + 1}`, rol: 'user' });
  return ids;
}

// Soporte: its verifiers also require a session id (jti) and name the signing key in the
// header (kid = first 12 hex of sha256(secret)); the peer ignores both.
const KEY_ID = require('node:crypto').createHash('sha256').update(String(opt.secret || '')).digest('hex').slice(0, 12);
function mintCookie(id) {
  const token = jwt.sign({ user: id.user, nombre: id.nombre, rol: id.rol }, opt.secret, {
    algorithm: 'HS256',
    expiresIn: '2h',
    keyid: KEY_ID,
    jwtid: require('node:crypto').randomUUID(),
  });
  return `token=${token}`;
}

// HOOK: obtain the auth cookie from an HTTP login endpoint instead of minting the JWT.
// Contract assumed: POST <login-url> with JSON {usuario, password}; the response sets a cookie
// named `token` (Set-Cookie). Adapt here if the product's login differs (CSRF, form body, ...).
// Soporte: logins hash passwords with argon2 (slow on purpose), so at most LOGIN_CONCURRENCY
// run at once; unbounded, a few hundred parallel logins time out on a 2-core machine.
const LOGIN_CONCURRENCY = 4;
let loginsRunning = 0;
const loginQueue = [];
async function loginCookie(id) {
  if (loginsRunning >= LOGIN_CONCURRENCY) await new Promise((resolve) => loginQueue.push(resolve));
  loginsRunning++;
  try {
    return await loginCookieNow(id);
  } finally {
    loginsRunning--;
    const next = loginQueue.shift();
    if (next) next();
  }
}

async function loginCookieNow(id) {
  const r = await fetch(opt['login-url'], {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ usuario: id.user, password: opt.password }),
    redirect: 'manual',
    signal: AbortSignal.timeout(10000),
  });
  const setCookies = typeof r.headers.getSetCookie === 'function' ? r.headers.getSetCookie() : [r.headers.get('set-cookie') || ''];
  for (const sc of setCookies) {
    const m = /(?:^|,\s*)token=([^;]+)/.exec(sc);
    if (m) return `token=${m[1]}`;
  }
  throw new Error(`login for ${id.user} gave HTTP ${r.status} and no token cookie`);
}

async function cookieFor(id) {
  return opt['login-url'] ? loginCookie(id) : mintCookie(id);
}

// ------------------------------------------------------------------ connections
const conn = {
  attempted: 0,
  ok: 0,
  failed: 0,
  errors: {},
  setupMs: [],
  disconnects: 0,
  disconnectReasons: {},
};

function connectOne(id, cookieHeader, urlIndex, onDisconnect) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    conn.attempted++;
    const socket = io(URLS[urlIndex % URLS.length], {
      forceNew: true,
      reconnection: false,
      transports: TRANSPORTS,
      upgrade: opt.transport === 'both',
      extraHeaders: { cookie: cookieHeader }, // works for websocket (ws) and polling (xhr) in Node
      // as Soporte's agent page: an agent's socket asks the gateway for the agents' replicas
      // (a routing hint; the Node peer has no such route and ignores it)
      query: id.rol === 'admin' ? { rol: 'admin' } : {},
      withCredentials: WITH_CREDENTIALS,
      timeout: opt['connect-timeout'],
      // like browsers, the Node client offers permessage-deflate by default; the server decides
      perMessageDeflate: opt['client-deflate'] === 'false' ? false : { threshold: 1024 },
    });
    let done = false;
    socket.once('connect', () => {
      if (done) return;
      done = true;
      conn.ok++;
      conn.setupMs.push(performance.now() - t0);
      socket.on('disconnect', (reason) => {
        conn.disconnects++;
        conn.disconnectReasons[reason] = (conn.disconnectReasons[reason] || 0) + 1;
        if (onDisconnect) onDisconnect(socket, reason);
      });
      resolve(socket);
    });
    socket.once('connect_error', (err) => {
      if (done) return;
      done = true;
      conn.failed++;
      const k = String(err && err.message).slice(0, 80);
      conn.errors[k] = (conn.errors[k] || 0) + 1;
      socket.close();
      resolve(null);
    });
  });
}

// Connect many identities with bounded concurrency.
async function connectAll(ids, concurrency) {
  const sockets = new Array(ids.length).fill(null);
  let next = 0;
  async function worker() {
    while (next < ids.length && timeLeft() > 0) {
      const i = next++;
      let cookieHeader;
      try {
        cookieHeader = await cookieFor(ids[i]);
      } catch (e) {
        conn.attempted++;
        conn.failed++;
        const k = `login: ${e.message}`.slice(0, 80);
        conn.errors[k] = (conn.errors[k] || 0) + 1;
        continue;
      }
      sockets[i] = await connectOne(ids[i], cookieHeader, i, null);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return sockets;
}

// How many sockets ended up on websocket with permessage-deflate negotiated (server's choice).
function transportInfo(sockets) {
  const out = { websocket: 0, polling: 0, other: 0, permessage_deflate: 0 };
  for (const s of sockets) {
    if (!s || !s.io || !s.io.engine || !s.io.engine.transport) continue;
    const t = s.io.engine.transport;
    if (t.name === 'websocket') out.websocket++;
    else if (t.name === 'polling') out.polling++;
    else out.other++;
    const ext = t.ws && typeof t.ws.extensions === 'string' ? t.ws.extensions : '';
    if (ext.includes('permessage-deflate')) out.permessage_deflate++;
  }
  return out;
}

function connSummary() {
  return {
    attempted: conn.attempted,
    ok: conn.ok,
    failed: conn.failed,
    errors: conn.errors,
    setup_ms: pct(conn.setupMs),
    disconnects: conn.disconnects,
    disconnect_reasons: conn.disconnectReasons,
  };
}

// ------------------------------------------------------------------ message load
// Every non-admin user sends {para, mensaje}; mensaje = "<runId>:<seq>:<send epoch ms>".
// Expected copies per receiving socket (seed model): [socket.user === para] + [socket is admin]
// because the seed emits to room user:<para> and, separately, to room admins (an admin who is also the
// addressee receives two copies). --dup-model union expects one copy per socket in either room.
class Load {
  constructor(ids, sockets) {
    this.ids = ids;
    this.sockets = sockets;
    this.para = opt.para;
    this.senders = [];
    this.receivers = []; // {socketIndex, expected, isPara}
    ids.forEach((id, i) => {
      if (!sockets[i]) return;
      if (id.rol !== 'admin') this.senders.push(i);
      const isPara = id.user === this.para;
      const isAdmin = id.rol === 'admin';
      let expected = opt['dup-model'] === 'seed' ? Number(isPara) + Number(isAdmin) : Number(isPara || isAdmin);
      if (expected > 0) this.receivers.push({ socketIndex: i, expected, isPara });
    });
    this.R = this.receivers.length;
    this.expectedPerMsg = this.receivers.reduce((s, r) => s + r.expected, 0);
    this.hasPara = this.receivers.some((r) => r.isPara);
    this.seq = 0;
    this.step = null;
    this.oldSteps = [];
    this.unexpected = 0; // deliveries to sockets that should not get them
    this.echoes = 0; // --sender-echo copies seen at the sending socket
    this.foreign = 0; // payloads not produced by this run
    this.disconnectedDuringStep = 0;
    this.eld = monitorEventLoopDelay({ resolution: 5 });

    const recvIndexBySocket = new Map(this.receivers.map((r, k) => [r.socketIndex, k]));
    ids.forEach((id, i) => {
      const s = sockets[i];
      if (!s) return;
      const k = recvIndexBySocket.has(i) ? recvIndexBySocket.get(i) : -1;
      s.on('mensaje_recibido', (msg) => this.onReceive(k, msg, i));
      s.on('disconnect', () => {
        this.disconnectedDuringStep++;
      });
    });
  }

  newStep(rate, durationS, label) {
    const cap = Math.ceil(rate * durationS * 1.3) + 1000;
    return {
      label,
      rate,
      durationS,
      s0: this.seq,
      s1: this.seq,
      cap,
      sched: new Float64Array(cap), // scheduled send time (performance.now ms)
      sender: new Int32Array(cap), // socket index that sent message j
      echoed: new Uint8Array(cap),
      counts: new Uint8Array(cap * this.R),
      remaining: new Int16Array(cap),
      acked: new Uint8Array(cap), // --ack: 1 once the message's acknowledgement came
      ackRefused: 0, // acknowledgements with ok false
      latAck: [], // --ack: acknowledgement - scheduled send
      lat: [], // every delivery: receive - scheduled send
      latPara: [], // first copy at the addressee's socket(s)
      latComplete: [], // last expected copy (fan-out complete)
      sendLagMax: 0,
      sendLag: [],
      skipped: 0,
      late: 0,
      evaluated: false,
    };
  }

  grow(st) {
    const cap = st.cap * 2;
    const sched = new Float64Array(cap);
    sched.set(st.sched);
    const sender = new Int32Array(cap);
    sender.set(st.sender);
    const echoed = new Uint8Array(cap);
    echoed.set(st.echoed);
    const counts = new Uint8Array(cap * this.R);
    counts.set(st.counts);
    const remaining = new Int16Array(cap);
    remaining.set(st.remaining);
    const acked = new Uint8Array(cap);
    acked.set(st.acked);
    Object.assign(st, { cap, sched, sender, echoed, counts, remaining, acked });
  }

  findStep(seq) {
    const st = this.step;
    if (st && seq >= st.s0 && seq < st.s1) return st;
    for (let i = this.oldSteps.length - 1; i >= 0; i--) {
      const o = this.oldSteps[i];
      if (seq >= o.s0 && seq < o.s1) return o;
    }
    return null;
  }

  onAck(seq, reply) {
    const now = performance.now();
    const st = this.findStep(seq);
    if (!st || st.evaluated) return;
    const j = seq - st.s0;
    if (st.acked[j]) return;
    st.acked[j] = 1;
    if (reply && reply.ok === true) st.latAck.push(now - st.sched[j]);
    else st.ackRefused++;
  }

  onReceive(k, msg, socketIndex) {
    const now = performance.now();
    const m = msg && msg.mensaje;
    if (typeof m !== 'string' || !m.startsWith(RUN_ID)) {
      this.foreign++;
      return;
    }
    const i1 = m.indexOf(':');
    const seq = parseInt(m.slice(i1 + 1, m.indexOf(':', i1 + 1)), 10);
    const st = this.findStep(seq);
    if (k < 0) {
      // --sender-echo: exactly one copy back to the sending socket is expected, not an extra delivery
      if (opt['sender-echo'] === 'true' && st && st.sender[seq - st.s0] === socketIndex && !st.echoed[seq - st.s0]) {
        st.echoed[seq - st.s0] = 1;
        this.echoes++;
        return;
      }
      this.unexpected++;
      return;
    }
    if (!st) {
      this.foreign++;
      return;
    }
    if (st.evaluated) {
      st.late++;
      return;
    }
    const j = seq - st.s0;
    const lat = now - st.sched[j];
    st.lat.push(lat);
    const ci = j * this.R + k;
    const before = st.counts[ci];
    if (before < 255) st.counts[ci] = before + 1;
    const r = this.receivers[k];
    if (r.isPara && before === 0) {
      // first copy at this addressee socket; count once per message (first addressee socket)
      let first = true;
      for (let kk = 0; kk < this.R; kk++) if (kk !== k && this.receivers[kk].isPara && st.counts[j * this.R + kk] > 0) first = false;
      if (first) st.latPara.push(lat);
    }
    if (before < r.expected) {
      st.remaining[j]--;
      if (st.remaining[j] === 0) st.latComplete.push(lat);
    }
  }

  // Open-loop sender: message n of the step is scheduled at t0 + n/rate, whatever the responses do.
  async runStep(rate, durationS, label) {
    const st = this.newStep(rate, durationS, label);
    if (this.step) this.oldSteps.push(this.step);
    if (this.oldSteps.length > 4) this.oldSteps.shift();
    this.step = st;
    this.disconnectedDuringStep = 0;
    const unexpected0 = this.unexpected;
    const stats0 = await fetchStats();
    const s0 = sampleAll();
    this.eld.reset();
    this.eld.enable();
    const total = Math.max(1, Math.round(rate * durationS));
    const interval = 1000 / rate;
    const t0 = performance.now() + 5;
    let n = 0;
    let senderRR = 0;
    const para = this.para;
    const senders = this.senders;
    await new Promise((resolve) => {
      const tick = () => {
        const now = performance.now();
        let due = Math.min(total, Math.floor((now - t0) / interval) + 1);
        while (n < due) {
          const sched = t0 + n * interval;
          let idx = -1;
          for (let tries = 0; tries < senders.length; tries++) {
            const cand = senders[senderRR++ % senders.length];
            if (this.sockets[cand] && this.sockets[cand].connected) {
              idx = cand;
              break;
            }
          }
          if (idx < 0) {
            st.skipped++;
            n++;
            continue;
          }
          const seq = this.seq++;
          const j = seq - st.s0;
          if (j >= st.cap) this.grow(st);
          st.sched[j] = sched;
          st.sender[j] = idx;
          st.remaining[j] = this.expectedPerMsg;
          st.s1 = this.seq;
          const lag = performance.now() - sched;
          if (lag > st.sendLagMax) st.sendLagMax = lag;
          if ((seq & 15) === 0) st.sendLag.push(lag);
          const payload = { para, mensaje: `${RUN_ID}:${seq}:${(performance.timeOrigin + sched).toFixed(3)}` };
          if (ACK) this.sockets[idx].emit('mensaje_privado', payload, (reply) => this.onAck(seq, reply));
          else this.sockets[idx].emit('mensaje_privado', payload);
          n++;
        }
        if (n >= total || timeLeft() < 0) return resolve();
        const wait = t0 + n * interval - performance.now();
        setTimeout(tick, wait > 1 ? Math.min(wait, 50) : 0);
      };
      setTimeout(tick, 5);
    });
    const tSendEnd = performance.now();
    const s1 = sampleAll();
    this.eld.disable();
    const eldP99 = this.eld.percentile(99) / 1e6;
    // drain: wait until every expected delivery arrived or drain-ms elapsed
    const drainUntil = performance.now() + opt['drain-ms'];
    while (performance.now() < drainUntil) {
      let pending = false;
      for (let j = st.s1 - st.s0 - 1; j >= 0; j--) {
        if (st.remaining[j] > 0 || (ACK && !st.acked[j])) {
          pending = true;
          break;
        }
      }
      if (!pending) break;
      await sleep(20);
    }
    const stats1 = await fetchStats();
    st.evaluated = true;
    return this.evaluate(st, tSendEnd - t0, diffSamples(s0, s1), eldP99, stats0, stats1, this.unexpected - unexpected0);
  }

  evaluate(st, sendWallMs, procs, eldP99, stats0, stats1, unexpected) {
    const nMsg = st.s1 - st.s0;
    let lost = 0;
    let dup = 0;
    let deliveredPara = 0;
    let deliveredAllAdmins = 0;
    let complete = 0;
    for (let j = 0; j < nMsg; j++) {
      let paraOk = false;
      let adminsOk = true;
      let ok = true;
      for (let k = 0; k < this.R; k++) {
        const c = st.counts[j * this.R + k];
        const r = this.receivers[k];
        if (c < r.expected) {
          lost += r.expected - c;
          ok = false;
        } else if (c > r.expected) {
          dup += c - r.expected;
          ok = false;
        }
        if (r.isPara && c > 0) paraOk = true;
        const isAdmin = this.ids[r.socketIndex].rol === 'admin';
        if (isAdmin && c === 0) adminsOk = false;
      }
      if (paraOk) deliveredPara++;
      if (adminsOk) deliveredAllAdmins++;
      if (ok) complete++;
    }
    const deliveries = st.lat.length;
    const res = {
      label: st.label,
      target_rate: st.rate,
      sent: nMsg,
      skipped_no_sender: st.skipped,
      send_wall_s: Math.round(sendWallMs) / 1000,
      achieved_send_rate: Math.round((nMsg / sendWallMs) * 1000 * 10) / 10,
      achieved_delivery_rate: Math.round((deliveries / sendWallMs) * 1000 * 10) / 10,
      expected_deliveries: nMsg * this.expectedPerMsg,
      deliveries,
      msgs_delivered_to_recipient: this.hasPara ? deliveredPara : null,
      msgs_delivered_to_all_admins: deliveredAllAdmins,
      msgs_complete: complete,
      lost_deliveries: lost,
      dup_deliveries: dup,
      unexpected_deliveries: unexpected,
      disconnects: this.disconnectedDuringStep,
      latency_ms: pct(st.lat),
      latency_recipient_ms: pct(st.latPara),
      latency_fanout_complete_ms: pct(st.latComplete),
      send_lag_ms: { ...pct(st.sendLag), max: Math.round(st.sendLagMax * 1000) / 1000 },
      acks: ACK ? { ok: st.latAck.length, refused: st.ackRefused, missing: nMsg - st.latAck.length - st.ackRefused, latency_ms: pct(st.latAck) } : undefined,
      harness_eventloop_delay_p99_ms: Math.round(eldP99 * 100) / 100,
      procs,
    };
    if (stats1.length) {
      res.server_stats = stats1.map((s) => ({
        port: s.port,
        sockets: s.sockets,
        elu: s.eventLoopUtilization !== undefined ? Math.round(s.eventLoopUtilization * 1000) / 1000 : undefined,
        inserts_pending: s.counters ? s.counters.insertsPending : undefined,
        inserts_failed: s.counters ? s.counters.insertsFailed : undefined,
        error: s.error,
      }));
    }
    // free memory of this step's big arrays (late deliveries only bump st.late)
    st.lat = st.latPara = st.latComplete = st.sendLag = st.latAck = null;
    return res;
  }

  pass(r) {
    const reasons = [];
    // Server-side backlog (peer's /__peer/stats: fire-and-forget INSERTs queued in the pg pool).
    // A step whose DB backlog is still above 250 ms worth of messages after the drain is not sustained.
    const backlog = serverBacklog(r.server_stats);
    if (backlog !== null && backlog > Math.max(50, 0.25 * r.target_rate)) reasons.push(`db backlog ${backlog}`);
    if (!(r.latency_ms.p99 < opt['p99-ms'])) reasons.push(`p99 ${r.latency_ms.p99}ms >= ${opt['p99-ms']}`);
    if (r.lost_deliveries > 0) reasons.push(`lost ${r.lost_deliveries}`);
    if (r.acks && r.acks.missing + r.acks.refused > 0) reasons.push(`acks missing ${r.acks.missing}, refused ${r.acks.refused}`);
    if (r.dup_deliveries > 0) reasons.push(`dup ${r.dup_deliveries}`);
    if (r.disconnects > 0) reasons.push(`disconnects ${r.disconnects}`);
    if (r.skipped_no_sender > 0) reasons.push(`skipped ${r.skipped_no_sender}`);
    if (r.achieved_send_rate < 0.95 * r.target_rate) reasons.push(`send rate ${r.achieved_send_rate} < 95% of ${r.target_rate}`);
    return reasons;
  }
}

function serverBacklog(stats) {
  if (!stats || !stats.length) return null;
  let sum = 0;
  let any = false;
  for (const s of stats) {
    if (typeof s.inserts_pending === 'number') {
      sum += s.inserts_pending;
      any = true;
    }
  }
  return any ? sum : null;
}

// Wait (bounded) until the server's insert backlog left by a previous step has drained.
async function waitBacklog(maxS = 60) {
  if (!opt['stats-url']) return 0;
  const t = performance.now();
  for (;;) {
    const st = await fetchStats();
    const b = serverBacklog(st.map((x) => ({ inserts_pending: x.counters ? x.counters.insertsPending : undefined })));
    if (b === null || b <= 50) break;
    if (performance.now() - t > maxS * 1000 || timeLeft() < 30000) {
      log(`backlog still ${b} after ${maxS}s`);
      break;
    }
    await sleep(250);
  }
  return round3((performance.now() - t) / 1000);
}

function brief(r) {
  return `${r.label} rate=${r.target_rate} sent=${r.sent} ach=${r.achieved_send_rate}/s deliv=${r.deliveries}/${r.expected_deliveries} lost=${r.lost_deliveries} dup=${r.dup_deliveries} p50=${r.latency_ms.p50} p99=${r.latency_ms.p99} max=${r.latency_ms.max} ms cpu=${JSON.stringify(
    Object.fromEntries(Object.entries(r.procs).map(([k, v]) => [k, v && v.cpu_pct])),
  )}`;
}

// ------------------------------------------------------------------ modes
async function setupLoad() {
  const ids = identities();
  log(`connecting ${ids.length} clients (${opt.admins} admins) to ${URLS.join(',')} transport=${opt.transport} withCredentials=${WITH_CREDENTIALS}`);
  const t = performance.now();
  const sockets = await connectAll(ids, opt['connect-concurrency']);
  log(`connected ${conn.ok}/${ids.length} in ${((performance.now() - t) / 1000).toFixed(2)}s, failed=${conn.failed} ${JSON.stringify(conn.errors)}`);
  return { ids, sockets, connectWallS: (performance.now() - t) / 1000 };
}

function closeAll(sockets) {
  for (const s of sockets) if (s) s.close();
}

async function modeLoad() {
  const { ids, sockets, connectWallS } = await setupLoad();
  const L = new Load(ids, sockets);
  if (!L.senders.length) throw new Error('no connected sender');
  if (opt.warmup > 0) {
    const w = await L.runStep(Math.min(opt.rate, Math.max(50, opt.rate / 2)), opt.warmup, 'warmup');
    log(brief(w));
  }
  await waitBacklog();
  const r = await L.runStep(opt.rate, opt.duration, 'load');
  log(brief(r));
  const transports = transportInfo(sockets);
  closeAll(sockets);
  return {
    connections: { ...connSummary(), connect_wall_s: round3(connectWallS), transports },
    result: r,
    pass_reasons_failed: L.pass(r),
  };
}

async function modeFindMax() {
  const { ids, sockets, connectWallS } = await setupLoad();
  const L = new Load(ids, sockets);
  if (!L.senders.length) throw new Error('no connected sender');
  const steps = [];
  const run = async (rate, dur, label) => {
    const waited = await waitBacklog();
    const r = await L.runStep(Math.round(rate), dur, label);
    r.backlog_wait_s = waited;
    const fails = L.pass(r);
    r.pass = fails.length === 0;
    r.fail_reasons = fails;
    steps.push(r);
    log(`${r.pass ? 'PASS' : 'FAIL'} ${brief(r)} ${fails.join('; ')}`);
    await sleep(500);
    return r;
  };
  if (opt.warmup > 0) {
    const w = await L.runStep(Math.max(50, Math.round(opt['rate-start'] / 2)), opt.warmup, 'warmup');
    log(`warmup ${brief(w)}`);
  }
  const confirmDur = opt['confirm-duration'];
  const budgetOk = (dur) => timeLeft() > (dur + confirmDur + opt['half-duration'] + 15) * 1000;
  let lo = 0;
  let hi = 0;
  let rate = opt['rate-start'];
  while (rate <= opt['rate-max'] && budgetOk(opt['step-duration'])) {
    const r = await run(rate, opt['step-duration'], 'step');
    if (r.pass) {
      lo = rate;
      rate = Math.round(rate * opt['rate-growth']);
    } else {
      hi = rate;
      break;
    }
    if (L.disconnectedDuringStep > 0) break;
  }
  for (let i = 0; i < opt.bisect && lo > 0 && hi > 0 && hi - lo > Math.max(10, lo * 0.03) && budgetOk(opt['step-duration']); i++) {
    const mid = Math.round((lo + hi) / 2);
    const r = await run(mid, opt['step-duration'], 'bisect');
    if (r.pass) lo = mid;
    else hi = mid;
  }
  // confirm the max with a longer step; back off 10% (at most --confirm-attempts - 1 times)
  // if it does not hold
  let max = lo;
  let confirm = null;
  for (let i = 0; i < opt['confirm-attempts'] && max > 0 && confirmDur > 0 && budgetOk(confirmDur); i++) {
    confirm = await run(max, confirmDur, 'confirm');
    if (confirm.pass) break;
    max = Math.round(max * 0.9);
    confirm = null;
  }
  if (confirmDur > 0 && !confirm) max = 0;
  let half = null;
  if (max > 0 && opt['half-duration'] > 0) {
    await waitBacklog();
    half = await L.runStep(Math.round(max / 2), opt['half-duration'], 'half_of_max');
    log(`half-of-max ${brief(half)}`);
  }
  const transports = transportInfo(sockets);
  closeAll(sockets);
  return {
    connections: { ...connSummary(), connect_wall_s: round3(connectWallS), transports },
    criterion: {
      p99_ms_below: opt['p99-ms'],
      no_loss: true,
      no_dup: true,
      no_disconnect: true,
      min_send_fraction: 0.95,
      max_db_backlog_after_drain: opt['stats-url'] ? '0.25 s of messages' : 'not checked (no --stats-url)',
    },
    max_sustained_rate: max,
    first_failing_rate: hi || null,
    half_of_max: half,
    confirm,
    steps: steps.map((s) => ({
      label: s.label,
      rate: s.target_rate,
      pass: s.pass,
      fail: s.fail_reasons,
      achieved: s.achieved_send_rate,
      p50: s.latency_ms.p50,
      p99: s.latency_ms.p99,
      max: s.latency_ms.max,
      lost: s.lost_deliveries,
      dup: s.dup_deliveries,
      eld_p99: s.harness_eventloop_delay_p99_ms,
      cpu: Object.fromEntries(Object.entries(s.procs).map(([k, v]) => [k, v && v.cpu_pct])),
      backlog_wait_s: s.backlog_wait_s,
      server: s.server_stats,
    })),
  };
}

async function modeRamp() {
  const rss0 = totalRss();
  const perPid0 = PIDS.map((p) => {
    const rss = (procSample(p.pid) || {}).rss || 0;
    return { label: p.label, rss_mb: Math.round(rss / 1048576), rss_bytes: rss };
  });
  const t0 = performance.now();
  const maxT = Math.min(opt['max-time'] * 1000, timeLeft() - (opt.hold + 15) * 1000);
  const sockets = [];
  const series = [];
  let stopReason = 'max-conns';
  let inflight = 0;
  let i = 0;
  let live = 0;
  const maxInflight = Math.max(10, opt['connect-concurrency'] * 4);
  const intervalMs = 100;
  const perTick = Math.max(1, Math.round((opt['ramp-rate'] * intervalMs) / 1000));
  let nextSeries = 1000;
  let lastLog = 0;
  const fdLimitGuess = 19900;
  log(`ramp: up to ${opt['max-conns']} idle connections at ${opt['ramp-rate']}/s, <= ${opt['max-time']}s, server rss <= ${opt['max-rss-mb']} MB`);
  for (;;) {
    const el = performance.now() - t0;
    if (i >= opt['max-conns']) break;
    if (el > maxT) {
      stopReason = 'max-time';
      break;
    }
    if (conn.failed >= opt['max-failures']) {
      stopReason = 'max-failures';
      break;
    }
    if (i >= fdLimitGuess) {
      stopReason = 'harness-fd-limit';
      break;
    }
    const rss = totalRss();
    if (PIDS.length && rss > opt['max-rss-mb'] * 1048576) {
      stopReason = 'max-rss';
      break;
    }
    if (PIDS.length && PIDS.every((p) => procSample(p.pid) === null)) {
      stopReason = 'server-died';
      break;
    }
    if (live >= nextSeries) {
      series.push({ conns: live, t_s: round3(el / 1000), rss_mb: Math.round(rss / 1048576) });
      nextSeries += 1000;
    }
    if (el - lastLog > 5000) {
      lastLog = el;
      log(`ramp: live=${live} attempted=${i} failed=${conn.failed} inflight=${inflight} rss=${Math.round(rss / 1048576)}MB`);
    }
    for (let k = 0; k < perTick && inflight < maxInflight && i < opt['max-conns']; k++) {
      const id = { user: `${opt['user-prefix']}${i + 1}`, nombre: `Usuario ${i + 1}`, rol: 'user' };
      const idx = i++;
      inflight++;
      (async () => {
        let cookieHeader;
        try {
          cookieHeader = await cookieFor(id);
        } catch (e) {
          conn.attempted++;
          conn.failed++;
          const key = `login: ${e.message}`.slice(0, 80);
          conn.errors[key] = (conn.errors[key] || 0) + 1;
          inflight--;
          return;
        }
        const s = await connectOne(id, cookieHeader, idx, () => {
          live--;
        });
        inflight--;
        if (s) {
          live++;
          sockets.push(s);
        }
      })();
    }
    await sleep(intervalMs);
  }
  // let in-flight connects settle (bounded)
  const settleUntil = performance.now() + opt['connect-timeout'] + 1000;
  while (inflight > 0 && performance.now() < settleUntil) await sleep(100);
  const rampS = (performance.now() - t0) / 1000;
  const peakLive = live;
  log(`ramp stopped (${stopReason}) live=${live} failed=${conn.failed}; holding ${opt.hold}s`);
  const rssPeak = totalRss();
  await sleep(opt.hold * 1000);
  const rssHeld = totalRss();
  const liveAfterHold = live;
  const transports = transportInfo(sockets);
  const perPid = PIDS.map((p, k) => {
    const rss = (procSample(p.pid) || {}).rss || 0;
    const before = perPid0[k].rss_bytes;
    return {
      label: p.label,
      rss_mb: Math.round(rss / 1048576),
      delta_mb: Math.round((rss - before) / 1048576),
      kb_per_conn: liveAfterHold ? Math.round((rss - before) / 1024 / liveAfterHold * 10) / 10 : null,
    };
  });
  closeAll(sockets);
  const GB = 1024 ** 3;
  return {
    stop_reason: stopReason,
    ramp_s: round3(rampS),
    connections: { ...connSummary(), transports },
    peak_live: peakLive,
    live_after_hold: liveAfterHold,
    hold_s: opt.hold,
    rss_baseline_mb: Math.round(rss0 / 1048576),
    rss_at_peak_mb: Math.round(rssPeak / 1048576),
    rss_after_hold_mb: Math.round(rssHeld / 1048576),
    per_pid_before: perPid0.map(({ label, rss_mb }) => ({ label, rss_mb })),
    per_pid_after: perPid,
    conns_per_gb_total_rss: rssHeld ? Math.round(liveAfterHold / (rssHeld / GB)) : null,
    conns_per_gb_marginal: rssHeld > rss0 ? Math.round(liveAfterHold / ((rssHeld - rss0) / GB)) : null,
    kb_per_conn_marginal: liveAfterHold ? Math.round((rssHeld - rss0) / 1024 / liveAfterHold) : null,
    harness_rss_mb: Math.round(process.memoryUsage.rss() / 1048576),
    series,
  };
}

const round3 = (x) => Math.round(x * 1000) / 1000;

// ------------------------------------------------------------------ main
async function main() {
  const hardStop = setTimeout(() => {
    console.error('harness: --max-run-seconds exceeded, aborting');
    process.exit(3);
  }, opt['max-run-seconds'] * 1000 + 30000);
  hardStop.unref();
  const started = new Date().toISOString();
  let body;
  if (opt.mode === 'load') body = await modeLoad();
  else if (opt.mode === 'find-max') body = await modeFindMax();
  else body = await modeRamp();
  const summary = {
    harness: 'peer-chat-harness/1',
    label: opt.label || undefined,
    mode: opt.mode,
    started,
    wall_s: round3((Date.now() - T0_WALL) / 1000),
    host: { cpus: os.cpus().length, load1: os.loadavg()[0] },
    params: {
      run_id: RUN_ID, // Soporte: messages of this run start with it (counted in Postgres)
      url: URLS,
      users: opt.users,
      admins: opt.admins,
      rate: opt.mode === 'load' ? opt.rate : undefined,
      duration: opt.mode === 'load' ? opt.duration : undefined,
      transport: opt.transport,
      auth: opt['login-url'] ? 'login-url' : 'secret',
      para: opt.para,
      dup_model: opt['dup-model'],
      with_credentials: WITH_CREDENTIALS,
      client_offers_deflate: opt['client-deflate'] !== 'false',
      pids: PIDS,
      comm: COMMS,
    },
    ...body,
  };
  const line = JSON.stringify(summary);
  if (opt.out) fs.writeFileSync(opt.out, line + '\n');
  process.stdout.write(line + '\n');
  // give sockets a moment to close, then exit regardless of leftover handles
  setTimeout(() => process.exit(0), 200);
}

main().catch((e) => {
  console.error('harness error:', e && e.stack ? e.stack : e);
  const line = JSON.stringify({ harness: 'peer-chat-harness/1', label: opt.label || undefined, mode: opt.mode, error: String(e && e.message), connections: connSummary() });
  if (opt.out) fs.writeFileSync(opt.out, line + '\n');
  process.stdout.write(line + '\n');
  setTimeout(() => process.exit(1), 200);
});
