import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Heartbeat, type HeartbeatTimers } from '../../src/channel/heartbeat.js';

/** Timers driven by hand: `tick()` runs the interval's callback once. */
function manualTimers() {
  const handle = { name: 'the interval' };
  const state = {
    fn: undefined as (() => void) | undefined,
    ms: undefined as number | undefined,
    set: 0,
    cleared: [] as unknown[],
  };
  const timers: HeartbeatTimers = {
    setInterval(fn, ms) {
      state.fn = fn;
      state.ms = ms;
      state.set++;
      return handle;
    },
    clearInterval(h) {
      state.cleared.push(h);
    },
  };
  const tick = () => {
    if (!state.fn) throw new Error('no interval was set');
    state.fn();
  };
  return { timers, state, handle, tick };
}

/** A heartbeat on manual timers that records pings (their callbacks) and deaths. */
function setup(intervalMs = 5000) {
  const t = manualTimers();
  const pings: ((err?: Error | null) => void)[] = [];
  const deaths: string[] = [];
  const hb = new Heartbeat({
    intervalMs,
    ping: (done) => pings.push(done),
    onDead: (reason) => deaths.push(reason),
    timers: t.timers,
  });
  return { ...t, hb, pings, deaths };
}

test('start() sets one interval of intervalMs and pings on each tick, not before', () => {
  const s = setup(5000);
  assert.is(s.state.set, 0);
  s.hb.start();
  assert.is(s.state.set, 1);
  assert.is(s.state.ms, 5000);
  assert.is(s.pings.length, 0, 'no ping before the first tick');
  s.tick();
  assert.is(s.pings.length, 1);
  assert.equal(s.deaths, []);
});

test('a ping unanswered at the next tick means the peer is dead, detected at the second tick', () => {
  const s = setup(5000);
  s.hb.start();
  s.tick();
  assert.is(s.pings.length, 1);
  assert.equal(s.deaths, [], 'still alive after the first tick');
  s.tick();
  assert.equal(s.deaths, ['no answer to a heartbeat within 5 s']);
  assert.is(s.pings.length, 1, 'no new ping while one is outstanding');
  assert.equal(s.state.cleared, [s.handle], 'the interval is cleared');
});

test('the reason rounds the interval to whole seconds', () => {
  const s = setup(1499);
  s.hb.start();
  s.tick();
  s.tick();
  assert.equal(s.deaths, ['no answer to a heartbeat within 1 s']);
});

test('an answered ping keeps the channel alive, tick after tick', () => {
  const s = setup();
  s.hb.start();
  for (let i = 0; i < 5; i++) {
    s.tick();
    s.pings[i]?.();
  }
  assert.is(s.pings.length, 5, 'one ping per tick');
  assert.equal(s.deaths, []);
  assert.equal(s.state.cleared, []);
  // An answer of null is an answer too.
  s.tick();
  s.pings[5]?.(null);
  s.tick();
  assert.is(s.pings.length, 7);
  assert.equal(s.deaths, []);
  // Then the peer goes silent: dead at the following tick.
  s.tick();
  assert.equal(s.deaths, ['no answer to a heartbeat within 5 s']);
});

test('an answer that comes after the peer was declared dead changes nothing', () => {
  const s = setup();
  s.hb.start();
  s.tick();
  s.tick();
  assert.is(s.deaths.length, 1);
  s.pings[0]?.();
  s.tick();
  s.tick();
  assert.is(s.pings.length, 1, 'no ping after death');
  assert.is(s.deaths.length, 1);
});

test('a ping that fails ends the channel at once with its error', () => {
  const s = setup();
  s.hb.start();
  s.tick();
  s.pings[0]?.(new Error('too many pings outstanding'));
  assert.equal(s.deaths, ['heartbeat failed: too many pings outstanding']);
  assert.equal(s.state.cleared, [s.handle]);
  s.tick();
  s.tick();
  assert.is(s.pings.length, 1, 'no ping after a failure');
  assert.is(s.deaths.length, 1, 'onDead is called once');
});

test('a ping that fails synchronously, inside ping(), is a death too', () => {
  const t = manualTimers();
  const deaths: string[] = [];
  let pings = 0;
  const hb = new Heartbeat({
    intervalMs: 1000,
    ping: (done) => {
      pings++;
      done(new Error('the channel cannot send a ping'));
    },
    onDead: (reason) => deaths.push(reason),
    timers: t.timers,
  });
  hb.start();
  t.tick();
  t.tick();
  assert.is(pings, 1);
  assert.equal(deaths, ['heartbeat failed: the channel cannot send a ping']);
});

test('stop() clears the interval; later ticks and answers do nothing', () => {
  const s = setup();
  s.hb.start();
  s.tick();
  s.hb.stop();
  assert.equal(s.state.cleared, [s.handle]);
  // A tick already queued when stop() ran must neither ping nor find the outstanding ping.
  s.tick();
  s.tick();
  assert.is(s.pings.length, 1);
  s.pings[0]?.(new Error('session destroyed'));
  assert.equal(s.deaths, [], 'no onDead after stop()');
});

test('onDead is called once, whatever happens after', () => {
  const s = setup();
  s.hb.start();
  s.tick();
  s.tick();
  s.pings[0]?.(new Error('late failure'));
  s.tick();
  s.hb.stop();
  s.tick();
  assert.equal(s.deaths, ['no answer to a heartbeat within 5 s']);
});

/** A 1 s heartbeat on manual timers that also watches the bytes received from the peer. */
function withBytesRead() {
  const t = manualTimers();
  const pings: ((err?: Error | null) => void)[] = [];
  const deaths: string[] = [];
  let bytes = 100;
  const hb = new Heartbeat({
    intervalMs: 1000,
    ping: (done) => pings.push(done),
    onDead: (reason) => deaths.push(reason),
    bytesRead: () => bytes,
    timers: t.timers,
  });
  return { hb, tick: t.tick, pings, deaths, peerSends: (n: number) => (bytes += n) };
}

test('a late answer is not death while bytes keep arriving from the peer; silence for a whole interval is', () => {
  const { hb, tick, pings, deaths, peerSends } = withBytesRead();
  hb.start();
  tick(); // ping 1 out
  peerSends(5000); // the peer is busy sending: the answer is queued behind its data
  tick();
  assert.equal(deaths, [], 'bytes arrived since the ping: alive');
  assert.is(pings.length, 1, 'no second ping while the first is outstanding');
  tick(); // nothing more arrived for a whole interval
  assert.equal(deaths, ['no answer to a heartbeat within 1 s']);
});

test('with bytes arriving, an answered ping clears the way for the next one', () => {
  const { hb, tick, pings, deaths, peerSends } = withBytesRead();
  hb.start();
  tick();
  peerSends(10);
  tick(); // late, but alive
  pings[0]?.();
  tick(); // answered: a new ping goes out
  assert.is(pings.length, 2);
  tick(); // no bytes since ping 2 and no answer: dead
  assert.equal(deaths, ['no answer to a heartbeat within 1 s']);
});

test.run();
