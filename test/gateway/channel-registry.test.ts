import { EventEmitter } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConnectionPointIdentity } from '../../src/certs/identity.js';
import type { Manifest, ManifestEndpoint } from '../../src/channel/control.js';
import type { GatewayChannel } from '../../src/gateway/channel.js';
import { ChannelRegistry, type Route } from '../../src/gateway/channel-registry.js';

const MP = '/CCM_Proxy_MutualAuth/72057594037927939';
const SYSTEM = `${MP}/CCM_System`;
const SMS_MP = '/CCM_Proxy_ServerAuth/72057594037927939/SMS_MP';

function manifest(endpoints: ManifestEndpoint[], serial = 1): Manifest {
  return { type: 'manifest', protocol: 1, serial, software: 'test', heartbeatSeconds: 15, endpoints };
}

/** What the registry reads of a channel: an EventEmitter with an identity, a manifest and its load. */
class FakeChannel extends EventEmitter {
  usable = true;
  inFlight = 0;
  readonly identity: ConnectionPointIdentity;
  manifest: Manifest | undefined;

  constructor(id: string, endpoints: ManifestEndpoint[], site = 'P01') {
    super();
    this.identity = { site, id };
    this.manifest = manifest(endpoints);
  }

  get channel(): GatewayChannel {
    return this as unknown as GatewayChannel;
  }

  /** As GatewayChannel does on a newer manifest: replace it, then tell. */
  update(endpoints: ManifestEndpoint[]): void {
    const previous = this.manifest;
    this.manifest = manifest(endpoints, (previous?.serial ?? 0) + 1);
    this.emit('manifest', this.manifest, previous);
  }
}

function registryOf(...channels: FakeChannel[]): ChannelRegistry {
  const r = new ChannelRegistry();
  for (const ch of channels) r.add(ch.channel);
  return r;
}

function routeOf(r: ChannelRegistry, path: string): Route {
  const route = r.routes.match(path)?.value;
  if (!route) throw new Error(`no route for ${path}`);
  return route;
}

function picks(r: ChannelRegistry, route: Route, n: number): (GatewayChannel | undefined)[] {
  return Array.from({ length: n }, () => r.pick(route));
}

test('add() registers the channel and publishes its endpoints as routes', () => {
  const a = new FakeChannel('cp01', [{ external: SYSTEM, maxContentLength: 5000 }, { external: SMS_MP }]);
  const r = registryOf(a);
  assert.equal([...r.channels], [a.channel]);
  assert.is(r.routes.size, 2);
  const hit = r.routes.match('/ccm_proxy_mutualauth/72057594037927939/ccm_system/request');
  assert.is(hit?.prefix, SYSTEM);
  assert.is(hit?.rest, '/request');
  const system = hit?.value;
  assert.is(system?.prefix, SYSTEM);
  assert.is(system?.site, 'P01');
  assert.is(system?.maxContentLength, 5000);
  assert.is(system?.turn, 0);
  assert.equal([...(system?.channels ?? [])], [a.channel]);
  assert.is(routeOf(r, `${SMS_MP}/.sms_aut`).maxContentLength, undefined);
  assert.is(r.routes.match(`${MP}/CCM_SystemX`), undefined);
});

test('a channel without a manifest publishes nothing', () => {
  const a = new FakeChannel('cp01', []);
  a.manifest = undefined;
  const r = registryOf(a);
  assert.is(r.channels.size, 1);
  assert.is(r.routes.size, 0);
});

test('a second channel of the same prefix, in any case, joins the same route', () => {
  const a = new FakeChannel('cp01', [{ external: SYSTEM }]);
  const b = new FakeChannel('cp02', [{ external: SYSTEM.toLowerCase(), maxContentLength: 10 }]);
  const r = registryOf(a, b);
  assert.is(r.routes.size, 1);
  const route = routeOf(r, SYSTEM);
  assert.is(route.prefix, SYSTEM, 'the first spelling stays');
  assert.equal([...route.channels], [a.channel, b.channel]);
  assert.is(route.maxContentLength, 10, 'the last publisher sets the limit');
});

test('a longer prefix under a published one is its own route', () => {
  const a = new FakeChannel('cp01', [{ external: SYSTEM }, { external: `${SYSTEM}/special` }]);
  const r = registryOf(a);
  assert.is(r.routes.size, 2);
  assert.is(routeOf(r, `${SYSTEM}/special/x`).prefix, `${SYSTEM}/special`);
  assert.is(routeOf(r, `${SYSTEM}/x`).prefix, SYSTEM);
});

test('pick() goes round-robin over connection points: two channels of cp01 and one of cp02 alternate', () => {
  const a1 = new FakeChannel('cp01', [{ external: SYSTEM }]);
  const b = new FakeChannel('cp02', [{ external: SYSTEM }]);
  const a2 = new FakeChannel('cp01', [{ external: SYSTEM }]);
  const r = registryOf(a1, b, a2);
  const route = routeOf(r, SYSTEM);
  assert.equal(
    picks(r, route, 6).map((ch) => ch?.identity.id),
    ['cp01', 'cp02', 'cp01', 'cp02', 'cp01', 'cp02'],
  );
  assert.is(route.turn, 6);
  // Points go in sorted order, whatever order their channels came in.
  const r2 = registryOf(b, a1);
  assert.equal(
    picks(r2, routeOf(r2, SYSTEM), 3).map((ch) => ch?.identity.id),
    ['cp01', 'cp02', 'cp01'],
  );
});

test('a prefix belongs to the site that published it first: another site publishing it is not routed to, and is reported', () => {
  const p1 = new FakeChannel('cp01', [{ external: SYSTEM }], 'P01');
  const p2 = new FakeChannel('cp01', [{ external: SYSTEM }, { external: SMS_MP }], 'P02');
  const r = new ChannelRegistry();
  const conflicts: string[] = [];
  r.on('conflict', (c) => conflicts.push(`${c.channel.identity.site} ${c.prefix} ${c.site}`));
  r.add(p1.channel);
  r.add(p2.channel);
  assert.equal(conflicts, [`P02 ${SYSTEM} P01`]);
  assert.equal(picks(r, routeOf(r, SYSTEM), 3), [p1.channel, p1.channel, p1.channel]);
  assert.equal([...routeOf(r, SMS_MP).channels], [p2.channel], 'its own prefixes are routed');
  p2.emit('closed', 'gone', false);
  assert.equal([...routeOf(r, SYSTEM).channels], [p1.channel]);
});

test("nor may another site take traffic with a longer or a shorter prefix than the owner's", () => {
  const p1 = new FakeChannel('cp01', [{ external: SYSTEM }], 'P01');
  const p2 = new FakeChannel(
    'cp02',
    [{ external: `${SYSTEM}/request` }, { external: '/CCM_Proxy_MutualAuth' }],
    'P02',
  );
  const r = new ChannelRegistry();
  const conflicts: string[] = [];
  r.on('conflict', (c) => conflicts.push(c.prefix));
  r.add(p1.channel);
  r.add(p2.channel);
  assert.equal(conflicts, [`${SYSTEM}/request`, '/CCM_Proxy_MutualAuth']);
  assert.equal(r.routes.match(`${SYSTEM}/request`)?.value.site, 'P01');
  assert.is(r.routes.size, 1);
});

test('within one connection point, pick() takes the channel with the fewest requests in flight', () => {
  const a = new FakeChannel('cp01', [{ external: SYSTEM }]);
  const b = new FakeChannel('cp01', [{ external: SYSTEM }]);
  const c = new FakeChannel('cp01', [{ external: SYSTEM }]);
  a.inFlight = 5;
  b.inFlight = 2;
  c.inFlight = 7;
  const r = registryOf(a, b, c);
  const route = routeOf(r, SYSTEM);
  assert.is(r.pick(route), b.channel);
  c.inFlight = 0;
  assert.is(r.pick(route), c.channel);
  a.inFlight = 0;
  assert.is(r.pick(route), a.channel, 'a tie goes to the channel added first');
});

test('pick() skips unusable channels, and points with none usable', () => {
  const a1 = new FakeChannel('cp01', [{ external: SYSTEM }]);
  const a2 = new FakeChannel('cp01', [{ external: SYSTEM }]);
  const b = new FakeChannel('cp02', [{ external: SYSTEM }]);
  a1.usable = false;
  a2.inFlight = 9;
  b.usable = false;
  const r = registryOf(a1, a2, b);
  const route = routeOf(r, SYSTEM);
  assert.equal(picks(r, route, 3), [a2.channel, a2.channel, a2.channel]);
  b.usable = true;
  // The turn went on while cp01 was alone (3 picks): the fourth goes to the second point.
  assert.equal(
    picks(r, route, 4).map((ch) => ch?.identity.id),
    ['cp02', 'cp01', 'cp02', 'cp01'],
  );
});

test('pick() returns undefined when no channel is usable', () => {
  const a = new FakeChannel('cp01', [{ external: SYSTEM }]);
  const b = new FakeChannel('cp02', [{ external: SYSTEM }]);
  a.usable = false;
  b.usable = false;
  const r = registryOf(a, b);
  assert.is(r.pick(routeOf(r, SYSTEM)), undefined);
  b.usable = true;
  assert.is(r.pick(routeOf(r, SYSTEM)), b.channel);
});

test('a closed channel is withdrawn; its route stays known, with nothing to pick', () => {
  const a = new FakeChannel('cp01', [{ external: SYSTEM }, { external: SMS_MP }]);
  const b = new FakeChannel('cp02', [{ external: SMS_MP }]);
  const r = registryOf(a, b);
  a.emit('closed', 'connection closed by the connection point', false);
  assert.equal([...r.channels], [b.channel]);
  assert.is(r.routes.size, 2);
  const system = r.routes.match(`${SYSTEM}/request`)?.value;
  assert.is(system?.prefix, SYSTEM, 'still routed: 503, not 404');
  assert.is(system?.channels.size, 0);
  assert.is(system && r.pick(system), undefined);
  const smsmp = routeOf(r, SMS_MP);
  assert.equal([...smsmp.channels], [b.channel]);
  assert.equal(picks(r, smsmp, 2), [b.channel, b.channel]);
  assert.is(a.listenerCount('closed'), 0, 'the closed listener runs once');
});

test('a new manifest moves the channel from the old endpoints to the new ones', () => {
  const a = new FakeChannel('cp01', [{ external: SYSTEM }, { external: SMS_MP, maxContentLength: 100 }]);
  const b = new FakeChannel('cp02', [{ external: SYSTEM }]);
  const r = registryOf(a, b);
  const CONTENT = '/CCM_Proxy_MutualAuth/72057594037927940/Content';
  a.update([{ external: SMS_MP, maxContentLength: 200 }, { external: CONTENT }]);
  assert.is(r.routes.size, 3);
  assert.equal([...routeOf(r, SYSTEM).channels], [b.channel], 'withdrawn from what it no longer publishes');
  assert.equal([...routeOf(r, SMS_MP).channels], [a.channel]);
  assert.is(routeOf(r, SMS_MP).maxContentLength, 200);
  assert.equal([...routeOf(r, CONTENT).channels], [a.channel]);
  assert.is(routeOf(r, CONTENT).site, 'P01');
  // Closing afterwards withdraws what the channel publishes now.
  a.emit('closed', 'gone', false);
  assert.is(routeOf(r, SMS_MP).channels.size, 0);
  assert.is(routeOf(r, CONTENT).channels.size, 0);
  assert.equal([...routeOf(r, SYSTEM).channels], [b.channel]);
});

test('healthyPoints(): connection points with a usable channel, by site', () => {
  const a1 = new FakeChannel('cp01', [{ external: SYSTEM }], 'P01');
  const a2 = new FakeChannel('cp01', [{ external: SYSTEM }], 'P01');
  const b = new FakeChannel('cp02', [{ external: SYSTEM }], 'P01');
  const c = new FakeChannel('cp09', [], 'P02');
  const d = new FakeChannel('cp03', [], 'P03');
  a1.usable = false;
  b.usable = false;
  d.usable = false;
  const r = registryOf(a1, a2, b, c, d);
  assert.equal(
    r.healthyPoints(),
    new Map([
      ['P01', new Set(['cp01'])],
      ['P02', new Set(['cp09'])],
    ]),
  );
  b.usable = true;
  assert.equal([...(r.healthyPoints().get('P01') ?? [])].sort(), ['cp01', 'cp02']);
  a2.emit('closed', 'gone', false);
  b.emit('closed', 'gone', false);
  assert.equal(r.healthyPoints(), new Map([['P02', new Set(['cp09'])]]));
  assert.equal(new ChannelRegistry().healthyPoints(), new Map());
});

test.run();
