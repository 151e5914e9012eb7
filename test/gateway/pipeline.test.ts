import { EventEmitter } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Certificate } from '../../src/certs/certificate.js';
import type { ConnectionPointIdentity } from '../../src/certs/identity.js';
import type { Manifest, ManifestEndpoint } from '../../src/channel/control.js';
import type { GatewayChannel } from '../../src/gateway/channel.js';
import { ChannelRegistry } from '../../src/gateway/channel-registry.js';
import { ClientAuthenticator } from '../../src/gateway/client-auth.js';
import {
  authenticate,
  chooseChannel,
  limitBody,
  type PipelineParts,
  type RequestContext,
  route,
  runPipeline,
  STEPS,
  type Step,
  validateUrl,
} from '../../src/gateway/pipeline.js';
import { type Chain, makeChain } from '../helpers/pki.js';

const MP = '/CCM_Proxy_MutualAuth/72057594037927939';
const SYSTEM = `${MP}/CCM_System`;
const SMS_MP = '/CCM_Proxy_ServerAuth/72057594037927939/SMS_MP';

class FakeChannel extends EventEmitter {
  usable = true;
  inFlight = 0;
  readonly identity: ConnectionPointIdentity;
  manifest: Manifest;

  constructor(id: string, endpoints: ManifestEndpoint[], site = 'P01') {
    super();
    this.identity = { site, id };
    this.manifest = {
      type: 'manifest',
      protocol: 1,
      serial: 1,
      software: 'test',
      heartbeatSeconds: 15,
      endpoints,
    };
  }

  get channel(): GatewayChannel {
    return this as unknown as GatewayChannel;
  }
}

/** A request: its target, declared length and client certificates; counts how often they were asked for. */
function request(target: string, options: { contentLength?: string; presented?: Certificate[] } = {}) {
  const asked = { presented: 0 };
  const ctx: RequestContext = {
    method: 'POST',
    target,
    contentLength: options.contentLength,
    presented: () => {
      asked.presented++;
      return options.presented ?? [];
    },
  };
  return { ctx, asked };
}

/** Parts over `registry`; `auth` is counted, and an error when the test gave none (it must not be asked). */
function partsOf(registry = new ChannelRegistry(), auth?: ClientAuthenticator) {
  const asked = { auth: 0 };
  const parts: PipelineParts = {
    maxUrlLength: 200,
    defaultMaxContentLength: 1000,
    auth: () => {
      asked.auth++;
      if (!auth) throw new Error('no client authenticator in this test');
      return auth;
    },
    registry,
  };
  return { parts, asked };
}

async function steps(ctx: RequestContext, parts: PipelineParts, ...list: Step[]) {
  const out = [];
  for (const step of list) out.push(await step(ctx, parts));
  return out;
}

let pki: { chain: Chain; stranger: Chain; auth: ClientAuthenticator } | undefined;
async function certs() {
  if (!pki) {
    const chain = await makeChain();
    const stranger = await makeChain();
    const auth = new ClientAuthenticator({
      trust: { roots: [chain.root.cert] },
      requireCrl: false,
      cacheMs: 60_000,
    });
    pki = { chain, stranger, auth };
  }
  return pki;
}

// ---------------------------------------------------------------- validateUrl

test('validateUrl: a valid target sets ctx.url, the path decoded once', async () => {
  const { ctx } = request(`${MP}/CCM%5FSystem/request?a=%2F`);
  assert.is(await validateUrl(ctx, partsOf().parts), undefined);
  assert.equal(ctx.url, {
    path: `${MP}/CCM_System/request`,
    raw: `${MP}/CCM%5FSystem/request?a=%2F`,
    query: 'a=%2F',
  });
});

test('validateUrl: 414 over the length limit, 400 for an invalid target; ctx.url stays unset', async () => {
  const { parts } = partsOf();
  const long = `/${'a'.repeat(200)}`;
  const tooLong = request(long);
  assert.equal(await validateUrl(tooLong.ctx, parts), {
    refused: 'urlTooLong',
    reason: 'URL of 201 characters; the limit is 200',
  });
  assert.is(tooLong.ctx.url, undefined);
  assert.is(await validateUrl(request(`/${'a'.repeat(199)}`).ctx, parts), undefined, 'exactly the limit');

  const cases: [string, string][] = [
    ['http://gw/x', 'not an origin-form request target'],
    ['/a/../b', 'dot segment ".."'],
    ['/a%2fb', 'encoded slash or backslash in the path'],
    ['/a//b', 'empty path segment (//)'],
    ['/a%252e', 'double percent-encoding in the path'],
    ['/a%zz', 'bad percent-escape in the path at 2'],
  ];
  for (const [target, reason] of cases) {
    const { ctx } = request(target);
    assert.equal(await validateUrl(ctx, parts), { refused: 'invalidUrl', reason }, target);
    assert.is(ctx.url, undefined, target);
  }
});

// ---------------------------------------------------------------- authenticate

test('authenticate: no certificate outside the mutual-auth namespace passes without asking the authenticator', async () => {
  const { ctx, asked } = request(`${SMS_MP}/.sms_aut?MPLIST`);
  const { parts, asked: partsAsked } = partsOf();
  assert.equal(await steps(ctx, parts, validateUrl, authenticate), [undefined, undefined]);
  assert.is(asked.presented, 1);
  assert.is(partsAsked.auth, 0);
  assert.is(ctx.certificate, undefined);
  assert.is(ctx.certificateError, undefined);
});

test('authenticate: no certificate inside the namespace is refused with clientCertificateRequired', async () => {
  const { auth } = await certs();
  // Matched on the decoded path, case-insensitively: an escape does not get around it.
  for (const target of [`${SYSTEM}/request`, '/ccm%5Fproxy_mutualauth/1/x', '/CCM_Proxy_MutualAuth']) {
    const { ctx } = request(target);
    const { parts, asked } = partsOf(new ChannelRegistry(), auth);
    assert.equal(
      await steps(ctx, parts, validateUrl, authenticate),
      [undefined, { refused: 'clientCertificateRequired', reason: 'no client certificate was presented' }],
      target,
    );
    assert.is(asked.auth, 1);
    assert.is(ctx.certificate, undefined);
    assert.is(ctx.certificateError, undefined, 'no verification code without a certificate');
  }
});

test('authenticate: a certificate that verifies sets ctx.certificate, inside the namespace and outside', async () => {
  const { chain, auth } = await certs();
  for (const target of [`${SYSTEM}/request`, `${SMS_MP}/.sms_aut?MPLIST`]) {
    const { ctx } = request(target, { presented: [chain.leaf.cert, chain.inter.cert] });
    const { parts } = partsOf(new ChannelRegistry(), auth);
    assert.equal(await steps(ctx, parts, validateUrl, authenticate), [undefined, undefined], target);
    assert.is(ctx.certificate, chain.leaf.cert, target);
    assert.is(ctx.certificate?.thumbprint, chain.leaf.cert.thumbprint);
    assert.is(ctx.certificateError, undefined);
  }
});

test('authenticate: an untrusted certificate is refused inside the namespace, passed over outside it', async () => {
  const { stranger, auth } = await certs();
  const presented = [stranger.leaf.cert, stranger.inter.cert, stranger.root.cert];

  const inside = request(`${SYSTEM}/request`, { presented });
  const refused = await steps(
    inside.ctx,
    partsOf(new ChannelRegistry(), auth).parts,
    validateUrl,
    authenticate,
  );
  assert.is(refused[0], undefined);
  assert.is(refused[1]?.refused, 'clientCertificateInvalid');
  assert.ok(refused[1]?.reason.startsWith('CMG_CERT_UNTRUSTED_ROOT at depth '), refused[1]?.reason);
  assert.equal(Object.keys(refused[1] ?? {}).sort(), ['reason', 'refused'], 'no more than the refusal');
  assert.is(inside.ctx.certificate, undefined);
  assert.is(inside.ctx.certificateError, 'CMG_CERT_UNTRUSTED_ROOT');

  const outside = request(`${SMS_MP}/.sms_aut?MPLIST`, { presented });
  assert.equal(
    await steps(outside.ctx, partsOf(new ChannelRegistry(), auth).parts, validateUrl, authenticate),
    [undefined, undefined],
  );
  assert.is(outside.ctx.certificate, undefined, 'an unverified certificate is not passed on');
  assert.is(outside.ctx.certificateError, 'CMG_CERT_UNTRUSTED_ROOT', 'but the code is kept for the log');
});

// ---------------------------------------------------------------- route

test('route: 404 when nothing published the path', async () => {
  const a = new FakeChannel('cp01', [{ external: SYSTEM }]);
  const registry = new ChannelRegistry();
  registry.add(a.channel);
  const { parts } = partsOf(registry);
  for (const target of [`${SMS_MP}/x`, `${MP}/CCM_SystemX`, MP, '/']) {
    const { ctx } = request(target);
    assert.equal(
      await steps(ctx, parts, validateUrl, route),
      [undefined, { refused: 'notFound', reason: 'no connection point has published this path' }],
      target,
    );
    assert.is(ctx.route, undefined);
    assert.is(ctx.maxContentLength, undefined);
  }
});

test("route: sets the route and the endpoint's body limit, or the default when it has none", async () => {
  const a = new FakeChannel('cp01', [{ external: SYSTEM, maxContentLength: 5000 }, { external: SMS_MP }]);
  const registry = new ChannelRegistry();
  registry.add(a.channel);
  const { parts } = partsOf(registry);

  const system = request('/ccm_proxy_mutualauth/72057594037927939/ccm_system/request').ctx;
  assert.equal(await steps(system, parts, validateUrl, route), [undefined, undefined]);
  assert.is(system.route, registry.routes.match(SYSTEM)?.value);
  assert.is(system.route?.prefix, SYSTEM);
  assert.is(system.route?.site, 'P01');
  assert.is(system.maxContentLength, 5000);

  const smsmp = request(`${SMS_MP}/.sms_aut?MPLIST`).ctx;
  assert.equal(await steps(smsmp, parts, validateUrl, route), [undefined, undefined]);
  assert.is(smsmp.route?.prefix, SMS_MP);
  assert.is(smsmp.maxContentLength, 1000, 'defaultMaxContentLength');

  const zero = new FakeChannel('cp02', [{ external: '/zero', maxContentLength: 0 }]);
  registry.add(zero.channel);
  const z = request('/zero/x').ctx;
  await steps(z, parts, validateUrl, route);
  assert.is(z.maxContentLength, 0, 'a limit of 0 is a limit, not "none"');
});

test('route: a route whose channels are gone is still found (the next step answers 503)', async () => {
  const a = new FakeChannel('cp01', [{ external: SYSTEM }]);
  const registry = new ChannelRegistry();
  registry.add(a.channel);
  a.emit('closed', 'gone', false);
  const { ctx } = request(`${SYSTEM}/request`);
  assert.equal(await steps(ctx, partsOf(registry).parts, validateUrl, route), [undefined, undefined]);
  assert.is(ctx.route?.prefix, SYSTEM);
  assert.is(ctx.route?.channels.size, 0);
});

// ---------------------------------------------------------------- limitBody

test('limitBody: 413 when the declared length is over the limit', async () => {
  const { parts } = partsOf();
  const at = (contentLength: string | undefined, maxContentLength?: number) => {
    const { ctx } = request('/x', { ...(contentLength === undefined ? {} : { contentLength }) });
    if (maxContentLength !== undefined) ctx.maxContentLength = maxContentLength;
    return limitBody(ctx, parts);
  };
  assert.equal(await at('11', 10), {
    refused: 'contentTooLarge',
    reason: 'declared body of 11 bytes; this endpoint takes at most 10',
  });
  assert.is(await at('10', 10), undefined, 'exactly the limit');
  assert.is(await at('0', 10), undefined);
  assert.is(await at(undefined, 10), undefined, 'no declared length: counted while it streams');
  assert.equal(await at('1'), {
    refused: 'contentTooLarge',
    reason: 'declared body of 1 bytes; this endpoint takes at most 0',
  });
});

// ---------------------------------------------------------------- chooseChannel

test('chooseChannel: 503 noConnectionPoint when no channel of the route is usable', async () => {
  const a = new FakeChannel('cp01', [{ external: SMS_MP }]);
  a.usable = false;
  const registry = new ChannelRegistry();
  registry.add(a.channel);
  const { parts } = partsOf(registry);
  const { ctx } = request(`${SMS_MP}/.sms_aut`);
  assert.equal(await steps(ctx, parts, validateUrl, route, chooseChannel), [
    undefined,
    undefined,
    {
      refused: 'noConnectionPoint',
      reason: `no healthy connection point of site P01 publishes ${SMS_MP}`,
    },
  ]);
  assert.is(ctx.channel, undefined);

  a.usable = true;
  assert.is(await chooseChannel(ctx, parts), undefined);
  assert.is(ctx.channel, a.channel);
});

test('chooseChannel: without a route, 503 too', async () => {
  const { ctx } = request('/x');
  assert.equal(await chooseChannel(ctx, partsOf().parts), {
    refused: 'noConnectionPoint',
    reason: 'no healthy connection point of site ? publishes this path',
  });
});

// ---------------------------------------------------------------- runPipeline

test('the steps, in order', () => {
  assert.equal(STEPS, [validateUrl, authenticate, route, limitBody, chooseChannel]);
});

test('runPipeline: a request that passes every step gets a channel', async () => {
  const { chain, auth } = await certs();
  const a = new FakeChannel('cp01', [{ external: SYSTEM, maxContentLength: 100 }]);
  const registry = new ChannelRegistry();
  registry.add(a.channel);
  const { ctx } = request(`${SYSTEM}/request`, {
    contentLength: '100',
    presented: [chain.leaf.cert, chain.inter.cert],
  });
  assert.is(await runPipeline(ctx, partsOf(registry, auth).parts), undefined);
  assert.is(ctx.url?.path, `${SYSTEM}/request`);
  assert.is(ctx.certificate, chain.leaf.cert);
  assert.is(ctx.route?.prefix, SYSTEM);
  assert.is(ctx.maxContentLength, 100);
  assert.is(ctx.channel, a.channel);
});

test('runPipeline stops at the first refusal: later steps neither run nor set anything', async () => {
  const { auth } = await certs();
  const a = new FakeChannel('cp01', [{ external: SYSTEM, maxContentLength: 10 }, { external: SMS_MP }]);
  a.usable = false;
  const registry = new ChannelRegistry();
  registry.add(a.channel);

  // 400 before the client certificate is even looked at.
  const bad = request(`${SYSTEM}/../x`, { contentLength: '999999' });
  const badParts = partsOf(registry, auth);
  assert.equal(await runPipeline(bad.ctx, badParts.parts), {
    refused: 'invalidUrl',
    reason: 'dot segment ".."',
  });
  assert.is(bad.asked.presented, 0);
  assert.is(badParts.asked.auth, 0);
  assert.is(bad.ctx.url, undefined);

  // 403 before routing: an unpublished path in the namespace is not told apart from a published one.
  const noCert = request(`${MP}/Unpublished/x`, { contentLength: '999999' });
  assert.equal(await runPipeline(noCert.ctx, partsOf(registry, auth).parts), {
    refused: 'clientCertificateRequired',
    reason: 'no client certificate was presented',
  });
  assert.is(noCert.ctx.route, undefined);

  // 404 before the body limit.
  const unknown = request('/Unpublished/x', { contentLength: '999999' });
  assert.equal(await runPipeline(unknown.ctx, partsOf(registry).parts), {
    refused: 'notFound',
    reason: 'no connection point has published this path',
  });
  assert.is(unknown.ctx.maxContentLength, undefined);

  // 413 before a channel is chosen (there is none usable: that would be 503).
  const { chain } = await certs();
  const big = request(`${SYSTEM}/request`, {
    contentLength: '11',
    presented: [chain.leaf.cert, chain.inter.cert],
  });
  assert.equal(await runPipeline(big.ctx, partsOf(registry, auth).parts), {
    refused: 'contentTooLarge',
    reason: 'declared body of 11 bytes; this endpoint takes at most 10',
  });
  assert.is(big.ctx.route?.prefix, SYSTEM);
  assert.is(big.ctx.channel, undefined);

  // Last, 503.
  const noChannel = request(`${SMS_MP}/.sms_aut`, { contentLength: '10' });
  assert.equal(await runPipeline(noChannel.ctx, partsOf(registry).parts), {
    refused: 'noConnectionPoint',
    reason: `no healthy connection point of site P01 publishes ${SMS_MP}`,
  });
  assert.is(noChannel.ctx.channel, undefined);
});

test.run();
