// ioredis (pinned in package.json) against a real server, with node's
// built-in test runner: pipelines of 1000 commands, MULTI/EXEC with a WATCH
// retry, pub/sub, blocking pops woken by another connection, round trips
// of every data type, ACL users (AUTH with a user name, NOPERM denials)
// and client-side caching (ioredis speaks RESP2, so tracking redirects the
// invalidations to a connection subscribed to __redis__:invalidate).
//
// Each test needs certain commands; when the server under test does not
// have them yet (COMMAND INFO answers nil) the test is skipped, naming the
// missing commands.
//
//     npm ci && node --test test.js          (in this directory)
//
// The server is $RINGCACHED (default: src/ringcached of this tree), started
// once on 127.0.0.1 on a free port in 27500-27999 with persistence off and
// stopped by PID.  RINGCACHED=/usr/bin/redis-server runs the same tests
// against Redis itself, which is how they were checked.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const Redis = require('ioredis');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BINARY = process.env.RINGCACHED || path.join(ROOT, 'src', 'ringcached');
const HOST = '127.0.0.1';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

async function freePort() {
  for (let i = 0; i < 200; i++) {
    const port = 27500 + Math.floor(Math.random() * 500);
    if (await portIsFree(port)) return port;
  }
  throw new Error('no free port in 27500-27999');
}

function ping(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port }, () => s.write('*1\r\n$4\r\nPING\r\n'));
    s.setTimeout(500, () => { s.destroy(); resolve(false); });
    s.once('data', (d) => { s.destroy(); resolve(d.toString().startsWith('+PONG')); });
    s.once('error', () => resolve(false));
  });
}

let server = null;     // { proc, port, dir }
let r = null;          // the shared client
const known = new Map();
const clients = [];    // extra connections, closed after each test

async function startServer() {
  let lastLog = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringcache-ioredis-'));
    const log = fs.openSync(path.join(dir, 'server.log'), 'w');
    const proc = spawn(BINARY, ['--port', String(port), '--bind', HOST, '--save', '', '--dir', dir],
      { cwd: dir, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    let exited = false;
    proc.once('exit', () => { exited = true; });
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline && !exited) {
      if (await ping(port)) return { proc, port, dir };
      await sleep(20);
    }
    lastLog = fs.readFileSync(path.join(dir, 'server.log'), 'utf8');
    await stopServer({ proc, port, dir });
  }
  throw new Error('server did not start:\n' + lastLog);
}

async function stopServer(srv) {
  if (srv.proc.exitCode === null && srv.proc.signalCode === null) {
    const exited = new Promise((resolve) => srv.proc.once('exit', resolve));
    srv.proc.kill('SIGTERM');
    const timer = setTimeout(() => srv.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  fs.rmSync(srv.dir, { recursive: true, force: true });
}

function connect(opts = {}) {
  const c = new Redis({ host: HOST, port: server.port, maxRetriesPerRequest: 1,
    retryStrategy: () => null, lazyConnect: false, ...opts });
  clients.push(c);
  return c;
}

// Names of the commands the server does not know, from COMMAND INFO.
async function missing(names) {
  const out = [];
  for (const name of names) {
    if (!known.has(name)) {
      const rows = await r.call('COMMAND', 'INFO', name);
      known.set(name, Array.isArray(rows) && rows[0] !== null);
    }
    if (!known.get(name)) out.push(name);
  }
  return out;
}

// A test that is skipped, naming what is missing, unless the server has
// every command in `needs`.  Starts on a flushed database.
function feature(name, needs, fn) {
  test(name, async (t) => {
    if (server === null) {
      t.skip('server binary not built: ' + BINARY);
      return;
    }
    const lacking = await missing(needs);
    if (lacking.length > 0) {
      t.skip('server lacks: ' + lacking.join(' '));
      return;
    }
    await r.flushall();
    try {
      await fn(t);
    } finally {
      while (clients.length > 0) clients.pop().disconnect();
    }
  });
}

before(async () => {
  if (!fs.existsSync(BINARY)) return;
  server = await startServer();
  r = new Redis({ host: HOST, port: server.port, maxRetriesPerRequest: 1 });
});

after(async () => {
  if (r) r.disconnect();
  if (server) await stopServer(server);
});

// ---- strings and pipelines ----

feature('strings round trip', ['set', 'get', 'mset', 'mget', 'incrby', 'expire', 'ttl'], async () => {
  const binary = Buffer.alloc(1024, 0);
  for (let i = 0; i < binary.length; i++) binary[i] = i & 0xff;
  assert.equal(await r.set('bin', binary), 'OK');
  assert.deepEqual(await r.getBuffer('bin'), binary);
  assert.equal(await r.set('s', 'v', 'NX'), 'OK');
  assert.equal(await r.set('s', 'w', 'NX'), null);
  assert.equal(await r.mset({ a: '1', b: '2' }), 'OK');
  assert.deepEqual(await r.mget('a', 'b', 'nosuch'), ['1', '2', null]);
  assert.equal(await r.incrby('a', 41), 42);
  assert.equal(await r.expire('a', 100), 1);
  const ttl = await r.ttl('a');
  assert.ok(ttl > 0 && ttl <= 100);
  await assert.rejects(r.incr('bin'), /ERR value is not an integer or out of range/);
});

feature('pipeline of 1000 commands', ['set', 'get', 'incr'], async () => {
  let p = r.pipeline();
  for (let i = 0; i < 1000; i++) p.set(`key:${i}`, `value:${i}`);
  let out = await p.exec();
  assert.equal(out.length, 1000);
  assert.ok(out.every(([err, res]) => err === null && res === 'OK'));
  p = r.pipeline();
  for (let i = 0; i < 1000; i++) p.get(`key:${i}`);
  out = await p.exec();
  assert.deepEqual(out.map(([, v]) => v), Array.from({ length: 1000 }, (_, i) => `value:${i}`));
  // Errors stay in place and do not stop the rest.
  p = r.pipeline();
  for (let i = 0; i < 1000; i++) {
    if (i % 100 === 7) p.incr(`key:${i}`);
    else p.incr('counter');
  }
  out = await p.exec();
  const errors = out.map(([err], i) => (err ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(errors, Array.from({ length: 10 }, (_, k) => k * 100 + 7));
  assert.equal(out[999][1], 990);
});

// ---- transactions ----

feature('MULTI/EXEC with a WATCH retry', ['multi', 'exec', 'watch', 'get', 'set', 'incrby'], async () => {
  await r.set('balance', 100);
  const tx = connect();        // WATCH state is per connection
  const other = connect();
  let attempts = 0;
  let result = null;
  while (result === null && attempts < 5) {
    attempts++;
    await tx.watch('balance');
    const balance = Number(await tx.get('balance'));
    if (attempts === 1) await other.incrby('balance', 50);     // breaks the WATCH
    result = await tx.multi().set('balance', balance - 30).incr('withdrawals').exec();
  }
  assert.equal(attempts, 2);
  assert.deepEqual(result, [[null, 'OK'], [null, 1]]);
  assert.equal(await r.get('balance'), '120');
});

feature('MULTI/EXEC errors', ['multi', 'exec', 'discard', 'set', 'incr', 'get'], async () => {
  const out = await r.multi().set('a', 'x').incr('a').set('b', 'y').exec();
  assert.equal(out[0][1], 'OK');
  assert.match(String(out[1][0]), /ERR value is not an integer/);
  assert.equal(out[2][1], 'OK');
  // A command rejected while queuing aborts the transaction (EXECABORT).
  await assert.rejects(r.multi().set('c', '1').call('SET', 'c').exec(), /EXECABORT/);
  assert.equal(await r.get('c'), null);
});

// ---- pub/sub ----

function nextEvent(emitter, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    emitter.once(event, (...args) => { clearTimeout(timer); resolve(args); });
  });
}

feature('pub/sub: channels and patterns', ['subscribe', 'psubscribe', 'unsubscribe', 'publish'], async () => {
  const sub = connect();
  assert.equal(await sub.subscribe('news'), 1);
  assert.equal(await sub.psubscribe('sport.*'), 2);
  let got = nextEvent(sub, 'message');
  assert.equal(await r.publish('news', 'hello'), 1);
  assert.deepEqual(await got, ['news', 'hello']);
  got = nextEvent(sub, 'pmessageBuffer');
  assert.equal(await r.publish('sport.tennis', Buffer.from([0, 255])), 1);
  const [pattern, channel, message] = await got;
  assert.equal(pattern.toString(), 'sport.*');
  assert.equal(channel.toString(), 'sport.tennis');
  assert.deepEqual(message, Buffer.from([0, 255]));
  assert.equal(await r.publish('nobody', 'x'), 0);
  await sub.unsubscribe('news');
  await sub.punsubscribe();
  assert.equal(await r.publish('news', 'gone'), 0);
});

feature('pub/sub: 100 messages in order', ['subscribe', 'publish'], async () => {
  const sub = connect();
  await sub.subscribe('events');
  const got = [];
  const done = new Promise((resolve) => {
    sub.on('message', (ch, msg) => { got.push(msg); if (msg === 'm99') resolve(); });
  });
  for (let i = 0; i < 100; i++) assert.equal(await r.publish('events', `m${i}`), 1);
  await done;
  assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => `m${i}`));
});

// ---- blocking pops ----

feature('BLPOP woken by another connection', ['blpop', 'rpush'], async () => {
  const blocker = connect();
  const pusher = connect();
  const t0 = Date.now();
  const popped = blocker.blpop('other', 'jobs', 5);
  await sleep(300);
  assert.equal(await pusher.rpush('jobs', 'job1', 'job2'), 2);
  assert.deepEqual(await popped, ['jobs', 'job1']);
  assert.ok(Date.now() - t0 >= 250);
  assert.deepEqual(await blocker.blpop('jobs', 1), ['jobs', 'job2']);
  const t1 = Date.now();
  assert.equal(await blocker.blpop('jobs', 0.2), null);
  assert.ok(Date.now() - t1 >= 150);
});

feature('BRPOP serves blocked clients in order', ['brpop', 'lpush'], async () => {
  const first = connect();
  const second = connect();
  const a = first.brpop('q', 5);
  await sleep(200);
  const b = second.brpop('q', 5);
  await sleep(200);
  await r.lpush('q', 'a');
  await sleep(100);
  await r.lpush('q', 'b');
  assert.deepEqual(await a, ['q', 'a']);
  assert.deepEqual(await b, ['q', 'b']);
});

// ---- data types ----

feature('hash round trip', ['hset', 'hget', 'hgetall', 'hmget', 'hincrby', 'hincrbyfloat',
  'hdel', 'hlen', 'hexists'], async () => {
  const fields = {};
  for (let i = 0; i < 300; i++) fields[`f${i}`] = `v${i}`;
  assert.equal(await r.hset('h', fields), 300);
  assert.equal(await r.hset('h', 'f0', 'changed'), 0);
  assert.equal(await r.hget('h', 'f0'), 'changed');
  assert.equal(await r.hlen('h'), 300);
  const all = await r.hgetall('h');
  assert.equal(Object.keys(all).length, 300);
  assert.equal(all.f299, 'v299');
  assert.deepEqual(await r.hmget('h', 'f1', 'nosuch'), ['v1', null]);
  assert.equal(await r.hincrby('h', 'n', 5), 5);
  assert.equal(await r.hincrbyfloat('h', 'x', 1.5), '1.5');
  assert.equal(await r.hexists('h', 'n'), 1);
  assert.equal(await r.hdel('h', 'n', 'x', 'nosuch'), 2);
  await r.set('str', 'x');
  await assert.rejects(r.hget('str', 'f'), /WRONGTYPE/);
});

feature('list round trip', ['lpush', 'rpush', 'lrange', 'lpop', 'rpop', 'llen', 'lindex',
  'lset', 'ltrim'], async () => {
  assert.equal(await r.rpush('l', ...Array.from({ length: 10 }, (_, i) => i)), 10);
  assert.equal(await r.lpush('l', 'head'), 11);
  assert.deepEqual(await r.lrange('l', 0, 2), ['head', '0', '1']);
  assert.deepEqual(await r.lrange('l', -2, -1), ['8', '9']);
  assert.equal(await r.lindex('l', 1), '0');
  assert.equal(await r.lset('l', 1, 'zero'), 'OK');
  assert.equal(await r.lpop('l'), 'head');
  assert.equal(await r.rpop('l'), '9');
  assert.deepEqual(await r.lpop('l', 2), ['zero', '1']);
  assert.equal(await r.ltrim('l', 0, 2), 'OK');
  assert.deepEqual(await r.lrange('l', 0, -1), ['2', '3', '4']);
  assert.equal(await r.llen('l'), 3);
  await r.del('l');
  const big = Array.from({ length: 2000 }, (_, i) => `item-${i}-${'x'.repeat(i % 50)}`);
  assert.equal(await r.rpush('l', ...big), 2000);
  assert.deepEqual(await r.lrange('l', 0, -1), big);
  const popped = await r.rpop('l', 3000);
  assert.equal(popped[popped.length - 1], big[0]);
  assert.equal(await r.exists('l'), 0);
});

feature('set round trip', ['sadd', 'smembers', 'sismember', 'scard', 'srem', 'sinter',
  'sunion', 'sdiff', 'spop'], async () => {
  assert.equal(await r.sadd('ints', ...Array.from({ length: 100 }, (_, i) => i)), 100);
  assert.equal(await r.sadd('ints', 5), 0);
  assert.equal(await r.scard('ints'), 100);
  assert.equal(await r.sismember('ints', 42), 1);
  assert.equal(await r.sadd('words', 'a', 'b', 'c', 1, 2), 5);
  assert.deepEqual((await r.sinter('ints', 'words')).sort(), ['1', '2']);
  assert.equal((await r.sunion('ints', 'words')).length, 103);
  assert.deepEqual((await r.sdiff('words', 'ints')).sort(), ['a', 'b', 'c']);
  assert.equal(await r.srem('words', 'a', 'zz'), 1);
  assert.deepEqual((await r.smembers('words')).sort(), ['1', '2', 'b', 'c']);
  assert.deepEqual((await r.spop('words', 10)).sort(), ['1', '2', 'b', 'c']);
  assert.equal(await r.exists('words'), 0);
});

feature('sorted set round trip', ['zadd', 'zrange', 'zscore', 'zincrby', 'zrank', 'zrevrank',
  'zcard', 'zrem', 'zrangebyscore', 'zcount'], async () => {
  const args = [];
  for (let i = 0; i < 200; i++) args.push(i * 1.5, `m${i}`);
  assert.equal(await r.zadd('z', ...args), 200);
  assert.equal(await r.zcard('z'), 200);
  assert.equal(await r.zscore('z', 'm10'), '15');
  assert.equal(await r.zincrby('z', 0.25, 'm10'), '15.25');
  assert.equal(await r.zrank('z', 'm0'), 0);
  assert.equal(await r.zrevrank('z', 'm199'), 0);
  assert.deepEqual(await r.zrange('z', 0, 2, 'WITHSCORES'), ['m0', '0', 'm1', '1.5', 'm2', '3']);
  assert.deepEqual(await r.zrangebyscore('z', 3, 6), ['m2', 'm3', 'm4']);
  assert.equal(await r.zcount('z', '-inf', '(3'), 2);
  assert.equal(await r.zadd('z', 'XX', 'CH', 1000, 'm0'), 1);
  assert.deepEqual(await r.zrange('z', -1, -1), ['m0']);
  assert.equal(await r.zrem('z', 'm0', 'nosuch'), 1);
  assert.equal(await r.zadd('z', 'inf', 'inf'), 1);
  assert.equal(await r.zscore('z', 'inf'), 'inf');
});

// ---- ACL users ----

feature('ACL user: AUTH with a user name, NOPERM for keys and commands',
  ['acl', 'auth', 'get', 'set', 'del'], async () => {
    assert.equal(await r.call('ACL', 'SETUSER', 'app', 'on', '>s3cret', 'resetkeys', '~app:*',
      '&news', '+@read', '+@write', '+publish', '+acl|whoami', '-del'), 'OK');
    try {
      const app = connect({ username: 'app', password: 's3cret', enableReadyCheck: false });
      assert.equal(await app.call('ACL', 'WHOAMI'), 'app');
      assert.equal(await app.set('app:1', 'v'), 'OK');
      assert.equal(await app.get('app:1'), 'v');
      await assert.rejects(app.set('other', 'v'),
        /^ReplyError: NOPERM this user has no permissions to access one of the keys used as arguments$/);
      await assert.rejects(app.del('app:1'),
        /^ReplyError: NOPERM this user has no permissions to run the 'del' command$/);
      await assert.rejects(app.publish('other', 'x'),
        /^ReplyError: NOPERM this user has no permissions to access one of the channels used as arguments$/);
      assert.equal(await app.publish('news', 'x'), 0);
      // A second connection switches users with AUTH.
      const c = connect();
      assert.equal(await c.call('ACL', 'WHOAMI'), 'default');
      await assert.rejects(c.call('AUTH', 'app', 'wrong'),
        /^ReplyError: WRONGPASS invalid username-password pair or user is disabled\.$/);
      assert.equal(await c.call('AUTH', 'app', 's3cret'), 'OK');
      assert.equal(await c.call('ACL', 'WHOAMI'), 'app');
      await assert.rejects(c.call('ACL', 'WHOAMI', 'x'), /wrong number of arguments/);
      // The denials are in the ACL log, newest first.
      const log = await r.call('ACL', 'LOG');
      const reasons = log.map((e) => e[e.indexOf('reason') + 1]);
      assert.deepEqual(reasons.slice(0, 4), ['auth', 'channel', 'command', 'key']);
      const entry = log[1];
      assert.equal(entry[entry.indexOf('username') + 1], 'app');
      assert.equal(entry[entry.indexOf('object') + 1], 'other');
      // Changing the user applies to its open connections at once.
      assert.equal(await r.call('ACL', 'SETUSER', 'app', '-get'), 'OK');
      await assert.rejects(app.get('app:1'),
        /^ReplyError: NOPERM this user has no permissions to run the 'get' command$/);
    } finally {
      await r.call('ACL', 'DELUSER', 'app');
      await r.call('ACL', 'LOG', 'RESET');
    }
  });

// ---- client-side caching ----

feature('tracking: invalidations redirected to a RESP2 subscriber',
  ['client', 'subscribe', 'get', 'set', 'mset', 'flushall'], async () => {
    const sub = connect();
    const subId = await sub.client('ID');
    assert.equal(await sub.subscribe('__redis__:invalidate'), 1);
    const c = connect();
    assert.equal(await c.client('TRACKING', 'ON', 'REDIRECT', subId), 'OK');
    assert.equal(await c.client('GETREDIR'), subId);
    await r.mset('cached', '1', 'other', '1');
    assert.equal(await c.get('cached'), '1');
    let got = nextEvent(sub, 'message');
    await r.set('cached', '2');
    assert.deepEqual(await got, ['__redis__:invalidate', 'cached']);
    // Invalidated once: the next write is not announced until read again.
    // (Messages carry the RESP2 array of keys, which ioredis joins.)
    await r.set('cached', '3');
    assert.equal(await c.get('cached'), '3');
    got = nextEvent(sub, 'message');
    await r.set('other', '2');           // never read: no message for it
    await r.set('cached', '4');
    assert.deepEqual(await got, ['__redis__:invalidate', 'cached']);
    // FLUSHALL invalidates everything: a null key list (ioredis hands a
    // RESP2 message's array over joined, and the null as '').
    assert.equal(await c.get('cached'), '4');
    got = nextEvent(sub, 'message');
    await r.flushall();
    assert.deepEqual(await got, ['__redis__:invalidate', '']);
    assert.equal(await c.client('TRACKING', 'OFF'), 'OK');
  });

feature('tracking: BCAST prefixes and OPTIN', ['client', 'subscribe', 'get', 'set'], async () => {
  const sub = connect();
  const subId = await sub.client('ID');
  await sub.subscribe('__redis__:invalidate');
  const bcast = connect();
  assert.equal(await bcast.client('TRACKING', 'ON', 'REDIRECT', subId, 'BCAST',
    'PREFIX', 'user:'), 'OK');
  let got = nextEvent(sub, 'message');
  await r.set('session:1', 'x');        // outside the prefix
  await r.set('user:1', 'x');           // never read, announced by prefix
  assert.deepEqual(await got, ['__redis__:invalidate', 'user:1']);
  assert.equal(await bcast.client('TRACKING', 'OFF'), 'OK');

  const optin = connect();
  assert.equal(await optin.client('TRACKING', 'ON', 'REDIRECT', subId, 'OPTIN'), 'OK');
  await r.set('a', '1');
  await r.set('b', '1');
  assert.equal(await optin.get('a'), '1');            // not cached: untracked
  assert.equal(await optin.client('CACHING', 'YES'), 'OK');
  assert.equal(await optin.get('b'), '1');            // tracked
  got = nextEvent(sub, 'message');
  await r.set('a', '2');
  await r.set('b', '2');
  assert.deepEqual(await got, ['__redis__:invalidate', 'b']);
  await assert.rejects(optin.client('CACHING', 'NO'),
    /^ReplyError: ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode\.$/);
});
