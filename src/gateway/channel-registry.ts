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
    for (const e of endpoints) {
      let route = this.routes.match(e.external)?.value;
      if (!route || route.prefix.toLowerCase() !== e.external.toLowerCase()) {
        route = {
          prefix: e.external,
          site: channel.identity.site,
          maxContentLength: e.maxContentLength,
          channels: new Set(),
          turn: 0,
        };
        this.routes.set(e.external, route);
      }
      if (route.site !== channel.identity.site) {
        // A prefix belongs to the site that published it first: another site's connection point must not take its traffic.
        this.emit('conflict', { channel, prefix: e.external, site: route.site });
        continue;
      }
      route.maxContentLength = e.maxContentLength;
      route.channels.add(channel);
    }
  }

  private withdraw(channel: GatewayChannel, endpoints: ManifestEndpoint[]): void {
    for (const e of endpoints) {
      this.routes.match(e.external)?.value.channels.delete(channel);
    }
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
