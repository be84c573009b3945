// ioredis (pinned in package.json) against a 3-node ring (cluster-replicas
// 0), with node's built-in test runner: the plain client connected to one
// node with keys served by the others, and Redis.Cluster, which routes by
// slot from CLUSTER SLOTS.  Pipelines, transactions with hash tags, pub/sub
// across nodes, blocking pops woken by a write made through another node,
// SCAN over the ring, an ACL user made on one node and used on every node
// (forwarded commands keep its permissions), and client-side caching of
// keys other nodes own (RESP2 REDIRECT to a __redis__:invalidate
// subscriber).
//
//     NODE_PATH=... node --test ring.js
//
// The ring comes from ../ring_up.py (the harness's compat.Ring: nodes on
// 127.0.0.1 on free ports from 22400, each in its own temporary directory),
// which stops every node by PID when its standard input closes; the test
// closes it in `after`, and kills the helper by PID if it does not exit.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const Redis = require('ioredis');
const keySlot = require('cluster-key-slot');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BINARY = process.env.RINGCACHED || path.join(ROOT, 'src', 'ringcached');
const HELPER = path.join(__dirname, '..', 'ring_up.py');
const HOST = '127.0.0.1';
const OFFSET = 10000;     // cluster-client-port-offset's default

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let helper = null;     // the ring_up.py process
let ports = [];        // the ring's node ports
let owners = null;     // slot -> node index
const clients = [];    // closed after each test

function startRing() {
  return new Promise((resolve, reject) => {
    helper = spawn('/usr/bin/python3', [HELPER, '--nodes', '3', '--port-base', '22400'],
      { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, RINGCACHED: BINARY } });
    let out = '';
    const timer = setTimeout(() => reject(new Error('ring did not start in 60 s')), 60000);
    helper.stdout.on('data', (d) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, nl)).ports);
      }
    });
    helper.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ring_up.py exited with ${code}`));
    });
  });
}

async function stopRing() {
  if (helper === null || helper.exitCode !== null || helper.signalCode !== null) return;
  const exited = new Promise((resolve) => helper.once('exit', resolve));
  helper.stdin.end();                     // ring_up.py stops the nodes and exits
  const term = setTimeout(() => helper.kill('SIGTERM'), 20000);
  const kill = setTimeout(() => helper.kill('SIGKILL'), 30000);
  await exited;
  clearTimeout(term);
  clearTimeout(kill);
}

function node(i, opts = {}) {
  const c = new Redis({ host: HOST, port: ports[i], maxRetriesPerRequest: 1,
    retryStrategy: () => null, ...opts });
  clients.push(c);
  return c;
}

function cluster() {
  const c = new Redis.Cluster([{ host: HOST, port: ports[1] }],
    { redisOptions: { maxRetriesPerRequest: 1 }, clusterRetryStrategy: () => null });
  clients.push(c);
  return c;
}

// A key (with prefix) whose slot node i serves.
function keyOn(i, prefix = 'k') {
  for (let n = 0; n < 100000; n++) {
    if (owners[keySlot(`${prefix}${n}`)] === i) return `${prefix}${n}`;
  }
  throw new Error(`no key for node ${i}`);
}

const tagOn = (i, prefix = 't') => `{${keyOn(i, prefix)}}`;

// The next pub/sub message on c, or null after ms.
function nextMessage(c, ms = 5000) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { c.removeListener('message', on); resolve(null); }, ms);
    function on(channel, message) {
      clearTimeout(timer);
      c.removeListener('message', on);
      resolve([channel, message]);
    }
    c.on('message', on);
  });
}

function ringTest(name, fn, opts = {}) {
  test(name, opts, async (t) => {
    if (ports.length === 0) {
      t.skip('server binary not built: ' + BINARY);
      return;
    }
    await node(0).flushall();
    try {
      await fn(t);
    } finally {
      while (clients.length > 0) clients.pop().disconnect();
    }
  });
}

before(async () => {
  if (!fs.existsSync(BINARY)) return;
  ports = await startRing();
  const c = new Redis({ host: HOST, port: ports[0], maxRetriesPerRequest: 1 });
  const slots = await c.call('CLUSTER', 'SLOTS');
  c.disconnect();
  owners = new Array(16384).fill(-1);
  for (const [lo, hi, primary] of slots) {
    // CLUSTER SLOTS names each node by its cluster clients' port.
    for (let s = lo; s <= hi; s++) owners[s] = ports.indexOf(primary[1] - OFFSET);
  }
});

after(async () => {
  while (clients.length > 0) clients.pop().disconnect();
  await stopRing();
});

// ---- the plain client on one node ----

ringTest('the ring spreads keys over every node', async () => {
  const seen = new Set();
  for (let i = 0; i < 100; i++) seen.add(owners[keySlot(`k${i}`)]);
  assert.deepEqual([...seen].sort(), [0, 1, 2]);
});

ringTest('plain pipeline across nodes', async () => {
  const r = node(0);
  const keys = Array.from({ length: 300 }, (_, i) => `p:${i}`);
  const p = r.pipeline();
  for (const k of keys) p.set(k, `${k}!`).incr(`${k}:n`).get(k);
  const out = await p.exec();
  assert.deepEqual(out, keys.flatMap((k) => [[null, 'OK'], [null, 1], [null, `${k}!`]]));
  for (const i of [1, 2]) {
    assert.deepEqual(await node(i).mget(keys), keys.map((k) => `${k}!`));
    assert.equal(await node(i).dbsize(), 600);
  }
});

ringTest('plain transaction with a hash tag, on each node', async () => {
  const r = node(0);
  for (const owner of [0, 1, 2]) {
    const tag = tagOn(owner);
    const out = await r.multi().set(`${tag}a`, 1).incrby(`${tag}a`, 41)
      .rpush(`${tag}l`, 'x', 'y').lrange(`${tag}l`, 0, -1).get(`${tag}a`).exec();
    assert.deepEqual(out, [[null, 'OK'], [null, 42], [null, 2], [null, ['x', 'y']], [null, '42']]);
    assert.equal(await node(owner).get(`${tag}a`), '42');
  }
});

ringTest('plain transaction across slots is refused', async () => {
  const r = node(0);
  await assert.rejects(r.multi().set(keyOn(1), 1).set(keyOn(2), 2).exec(),
    /EXECABORT|CROSSSLOT/);
  assert.equal(await r.exists(keyOn(1), keyOn(2)), 0);
});

ringTest('plain pub/sub across nodes', async () => {
  const sub = node(0);
  await sub.subscribe('news');
  const pmsgs = [];
  sub.on('pmessage', (pattern, channel, message) => pmsgs.push([pattern, channel, message]));
  await sub.psubscribe('ne*');
  for (const publisher of [1, 2]) {
    const got = nextMessage(sub);
    await node(publisher).publish('news', `from ${publisher}`);
    assert.deepEqual(await got, ['news', `from ${publisher}`]);
  }
  for (let i = 0; i < 50 && pmsgs.length < 2; i++) await sleep(100);
  assert.deepEqual(pmsgs, [['ne*', 'news', 'from 1'], ['ne*', 'news', 'from 2']]);
});

ringTest('plain blocking pop woken through another node', async () => {
  for (const owner of [0, 1, 2]) {
    const key = keyOn(owner, 'q');
    const waiter = node((owner + 1) % 3);
    const start = Date.now();
    const popped = waiter.blpop(key, 8);
    await sleep(300);
    assert.equal(await node((owner + 2) % 3).rpush(key, `v${owner}`), 1);
    assert.deepEqual(await popped, [key, `v${owner}`]);
    assert.ok(Date.now() - start < 5000);
  }
});

ringTest('plain blocking pop times out', async () => {
  const start = Date.now();
  assert.equal(await node(0).brpop(keyOn(2, 'empty'), 0.3), null);
  const took = Date.now() - start;
  assert.ok(took >= 250 && took < 3000, `took ${took} ms`);
});

ringTest('plain SCAN covers the ring, each key once', async () => {
  const keys = Array.from({ length: 1000 }, (_, i) => `s:${i}`);
  await node(0).mset(Object.fromEntries(keys.map((k) => [k, 'x'])));
  for (const i of [0, 1, 2]) {
    const seen = [];
    const stream = node(i).scanStream({ count: 50 });
    for await (const batch of stream) seen.push(...batch);
    assert.equal(seen.length, keys.length);
    assert.deepEqual(seen.sort(), [...keys].sort());
  }
});

ringTest('plain ACL user made on one node, used on every node', async () => {
  assert.equal(await node(0).call('ACL', 'SETUSER', 'ringapp', 'on', '>pw', 'resetkeys',
    '~ra:*', '+@read', '+@write', '+acl|whoami', '+cluster|slots', '+cluster|info', '-del'),
  'OK');
  try {
    for (const i of [1, 2]) {       // the SETUSER reaches the others
      let rules = null;
      for (let n = 0; n < 50 && rules === null; n++) {
        rules = await node(i).call('ACL', 'GETUSER', 'ringapp');
        if (rules === null) await sleep(100);
      }
      assert.notEqual(rules, null, `user missing on node ${i}`);
    }
    for (const i of [0, 1, 2]) {
      const app = node(i, { username: 'ringapp', password: 'pw', enableReadyCheck: false });
      assert.equal(await app.call('ACL', 'WHOAMI'), 'ringapp');
      for (const owner of [0, 1, 2]) {
        const key = keyOn(owner, 'ra:');
        assert.equal(await app.set(key, `from ${i}`), 'OK');
        assert.equal(await app.get(key), `from ${i}`);
        await assert.rejects(app.del(key),
          /^ReplyError: NOPERM this user has no permissions to run the 'del' command$/);
        await assert.rejects(app.set(keyOn(owner, 'other:'), 'v'),
          /^ReplyError: NOPERM this user has no permissions to access one of the keys used as arguments$/);
      }
    }
    await assert.rejects(node(1).call('AUTH', 'ringapp', 'wrong'),
      /^ReplyError: WRONGPASS invalid username-password pair or user is disabled\.$/);
    // Redis.Cluster logs every node connection in as the user (which needs
    // CLUSTER SLOTS for the topology and CLUSTER INFO for its ready check).
    const c = new Redis.Cluster([{ host: HOST, port: ports[2] }], {
      redisOptions: { maxRetriesPerRequest: 1, username: 'ringapp', password: 'pw',
        enableReadyCheck: false },
      clusterRetryStrategy: () => null });
    clients.push(c);
    for (let n = 0; n < 60; n++) {
      const key = `ra:c${n}`;
      assert.equal(await c.set(key, n), 'OK');
      assert.equal(await c.get(key), String(n));
    }
    await assert.rejects(c.set('nope', 1), /^ReplyError: NOPERM/);
  } finally {
    await node(0).call('ACL', 'DELUSER', 'ringapp');
  }
});

ringTest('plain client-side caching of keys other nodes own', async () => {
  const sub = node(0);
  const subId = await sub.client('ID');
  await sub.subscribe('__redis__:invalidate');
  const tracker = node(0);
  assert.equal(await tracker.client('TRACKING', 'ON', 'REDIRECT', subId), 'OK');
  for (const owner of [0, 1, 2]) {
    const key = keyOn(owner, 'tr');
    await node(owner).set(key, 'old');
    assert.equal(await tracker.get(key), 'old');      // tracked, maybe forwarded
    const got = nextMessage(sub);
    await node((owner + 1) % 3).set(key, 'new');       // written through another node
    assert.deepEqual(await got, ['__redis__:invalidate', key]);
  }
  const bsub = node(1);
  const bsubId = await bsub.client('ID');
  await bsub.subscribe('__redis__:invalidate');
  const bcast = node(1);
  assert.equal(await bcast.client('TRACKING', 'ON', 'REDIRECT', bsubId, 'BCAST',
    'PREFIX', 'bp:'), 'OK');
  for (const owner of [0, 1, 2]) {
    const key = keyOn(owner, 'bp:');
    const got = nextMessage(bsub);
    await node((owner + 2) % 3).set(key, 'v');        // never read: the prefix is enough
    assert.deepEqual(await got, ['__redis__:invalidate', key]);
  }
});

// ---- Redis.Cluster ----

ringTest('cluster: topology, set and get across slots', async () => {
  const c = cluster();
  const keys = Array.from({ length: 200 }, (_, i) => `c:${i}`);
  for (const k of keys) assert.equal(await c.set(k, k), 'OK');
  for (const k of keys) assert.equal(await c.get(k), k);
  // Cluster clients are sent to each node's cluster clients' port.
  assert.deepEqual(c.nodes('master').map((n) => n.options.port).sort(),
    ports.map((p) => p + OFFSET).sort());
  assert.deepEqual(await node(2).mget(keys), keys);
});

ringTest('cluster: pipeline and transaction with a hash tag', async () => {
  const c = cluster();
  for (const owner of [0, 1, 2]) {
    const tag = tagOn(owner, 'ct');
    const p = c.pipeline();
    for (let i = 0; i < 50; i++) p.set(`${tag}${i}`, i).incr(`${tag}${i}`);
    const out = await p.exec();
    assert.deepEqual(out, Array.from({ length: 50 }, (_, i) => [[null, 'OK'], [null, i + 1]]).flat());
    const tx = await c.multi().incr(`${tag}n`).lpush(`${tag}l`, 'v').get(`${tag}n`).exec();
    assert.deepEqual(tx, [[null, 1], [null, 1], [null, '1']]);
    assert.equal(await node(owner).get(`${tag}n`), '1');
  }
});

ringTest('cluster: pub/sub across nodes', async () => {
  const c = cluster();
  await c.subscribe('events');
  for (const publisher of [0, 1, 2]) {
    const got = nextMessage(c);
    await node(publisher).publish('events', `e${publisher}`);
    assert.deepEqual(await got, ['events', `e${publisher}`]);
  }
});

ringTest('cluster: blocking pop woken through another node', async () => {
  const c = cluster();
  const key = keyOn(2, 'cq');
  const popped = c.brpop(key, 8);
  await sleep(300);
  await node(0).lpush(key, 'x');
  assert.deepEqual(await popped, [key, 'x']);
});

ringTest('cluster: SCAN of every master returns each key once', async () => {
  const c = cluster();
  const keys = Array.from({ length: 300 }, (_, i) => `cs:${i}`);
  await node(0).mset(Object.fromEntries(keys.map((k) => [k, '1'])));
  // Until it is ready the cluster's only node is the one it was given.
  if (c.status !== 'ready') await new Promise((resolve) => c.once('ready', resolve));
  const masters = c.nodes('master');
  assert.deepEqual(masters.map((n) => n.options.port).sort(), ports.map((p) => p + OFFSET).sort());
  const seen = [];
  for (const master of masters) {
    for await (const batch of master.scanStream({ count: 100 })) seen.push(...batch);
  }
  // Each node scans the slots it serves on the cluster clients' port.
  assert.equal(new Set(seen).size, keys.length);
  assert.equal(seen.length, keys.length, `${seen.length} keys returned for ${keys.length}`);
  let total = 0;
  for (const master of masters) total += await master.dbsize();
  assert.equal(total, keys.length);
});
