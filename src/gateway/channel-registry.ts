import { EventEmitter } from 'node:events';
import type { Manifest, ManifestEndpoint } from '../channel/control.js';
import type { GatewayChannel } from './channel.js';
import { PrefixRouter } from './router.js';

/** A published prefix: known for the life of the process, served while some channel of it is usable. */
export interface Route {
  prefix: string;
  site: string;
  maxContentLength: number | undefined;
  channels: Set<GatewayChannel>;
  /** Round-robin position over this route's connection points. */
  turn: number;
}

/**
 * Every channel and what it published. Routing is by longest published
 * prefix; a route whose channels are all gone stays known, so its path gets
 * `503` (try again) rather than `404` (no such thing). Requests go round-robin
 * over the connection points serving the route, and within one connection
 * point to its channel with the fewest requests in flight.
 */
export interface RegistryEvents {
  conflict: [{ channel: GatewayChannel; prefix: string; site: string }];
}

export class ChannelRegistry extends EventEmitter<RegistryEvents> {
  readonly routes = new PrefixRouter<Route>();
  readonly channels = new Set<GatewayChannel>();

  add(channel: GatewayChannel): void {
    this.channels.add(channel);
    this.publish(channel, channel.manifest?.endpoints ?? []);
    channel.on('manifest', (m: Manifest, previous: Manifest) => {
      this.withdraw(channel, previous.endpoints);
      this.publish(channel, m.endpoints);
    });
    channel.once('closed', () => {
      this.channels.delete(channel);
      this.withdraw(channel, channel.manifest?.endpoints ?? []);
    });
  }

  private publish(channel: GatewayChannel, endpoints: ManifestEndpoint[]): void {
    const site = channel.identity.site;
    for (const e of endpoints) {
      // A prefix belongs to the site that published it first, and so does everything under it and
      // above it: another site's connection point must not take its traffic, not even by
      // publishing a longer (or shorter) prefix that longest-match routing would prefer.
      const owner = this.ownerOf(e.external, site);
      if (owner) {
        this.emit('conflict', { channel, prefix: e.external, site: owner });
        continue;
      }
      let route = this.routes.get(e.external);
      if (!route) {
        route = {
          prefix: e.external,
          site,
          maxContentLength: e.maxContentLength,
          channels: new Set(),
          turn: 0,
        };
        this.routes.set(e.external, route);
      }
      route.maxContentLength = e.maxContentLength;
      route.channels.add(channel);
    }
  }

  /** Another site whose prefix equals, contains or lies under `prefix`, if any. */
  private ownerOf(prefix: string, site: string): string | undefined {
    const p = prefix.toLowerCase();
    for (const { prefix: other, value } of this.routes.values()) {
      if (value.site === site) continue;
      const o = other.toLowerCase();
      if (o === p || p.startsWith(`${o}/`) || o.startsWith(`${p}/`)) return value.site;
    }
    return undefined;
  }

  private withdraw(channel: GatewayChannel, endpoints: ManifestEndpoint[]): void {
    for (const e of endpoints) this.routes.get(e.external)?.channels.delete(channel);
  }

  /** A usable channel for the route, or undefined when none can take a request now. */
  pick(route: Route): GatewayChannel | undefined {
    const byPoint = new Map<string, GatewayChannel[]>();
    for (const ch of route.channels) {
      if (!ch.usable) continue;
      const key = `${ch.identity.site}/${ch.identity.id}`;
      const list = byPoint.get(key);
      if (list) list.push(ch);
      else byPoint.set(key, [ch]);
    }
    if (byPoint.size === 0) return undefined;
    const points = [...byPoint.keys()].sort();
    const point = points[route.turn++ % points.length] as string;
    let best: GatewayChannel | undefined;
    for (const ch of byPoint.get(point) ?? []) if (!best || ch.inFlight < best.inFlight) best = ch;
    return best;
  }

  /** Connection points with at least one usable channel, by site. */
  healthyPoints(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const ch of this.channels) {
      if (!ch.usable) continue;
      const set = out.get(ch.identity.site) ?? new Set<string>();
      set.add(ch.identity.id);
      out.set(ch.identity.site, set);
    }
    return out;
  }
}
