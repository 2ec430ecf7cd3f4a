/**
 * Authentication and origin checks for the HTTP upgrade (DESIGN §3). They run
 * before a WebSocket exists, so a refused client never gets a socket.
 */
import type { IncomingMessage } from 'node:http';
import { ALL_SCOPES, type Identity } from '../methods/types.js';
import { createSecretMatcher } from '../secret.js';

/** The subprotocol every client speaks; the only one the server selects. */
export const SUBPROTOCOL = 'flynn.v1';
/** Browsers cannot set headers, so the token may ride as `bearer.<token>`. */
const BEARER_PROTOCOL_PREFIX = 'bearer.';

export interface AuthOptions {
  readonly token: string;
  /** Trust `Tailscale-User-Login` from loopback peers (Tailscale Serve). */
  readonly trustTailscale: boolean;
  /** Tailscale logins allowed in; empty allows any login Tailscale vouches for. */
  readonly allowUsers: readonly string[];
  /** Origins allowed besides the gateway's own, e.g. `https://app.example`. */
  readonly allowOrigins: readonly string[];
}

export type AuthOutcome =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string };

const FULL_SCOPES = new Set(ALL_SCOPES);
const TOKEN_IDENTITY: Identity = { id: 'token', scopes: FULL_SCOPES };

export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}

/** Builds the upgrade checks once; the returned functions allocate little per request. */
export function createAuthenticator(options: AuthOptions) {
  const tokenMatches = createSecretMatcher(options.token);
  const allowUsers = new Set(options.allowUsers);
  const allowOrigins = new Set(options.allowOrigins.map(normalizeOrigin));

  function presentedToken(req: IncomingMessage): string | undefined {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (match) return match[1];
    }
    const protocols = req.headers['sec-websocket-protocol'];
    if (protocols !== undefined) {
      for (const raw of protocols.split(',')) {
        const protocol = raw.trim();
        if (protocol.startsWith(BEARER_PROTOCOL_PREFIX)) return protocol.slice(BEARER_PROTOCOL_PREFIX.length);
      }
    }
    return undefined;
  }

  /** 403 for a browser page from a foreign origin (cross-site WebSocket hijacking). */
  function checkOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true; // CLI, scripts, bots send none
    const normalized = normalizeOrigin(origin);
    if (allowOrigins.has(normalized)) return true;
    let host: string;
    try {
      host = new URL(normalized).host;
    } catch {
      return false; // includes the opaque origin "null"
    }
    return host !== '' && host === req.headers.host?.toLowerCase();
  }

  function authenticate(req: IncomingMessage): AuthOutcome {
    const token = presentedToken(req);
    if (token !== undefined) {
      return tokenMatches(token)
        ? { ok: true, identity: TOKEN_IDENTITY }
        : { ok: false, status: 401, reason: 'bad token' };
    }
    if (options.trustTailscale && isLoopbackAddress(req.socket.remoteAddress)) {
      const login = req.headers['tailscale-user-login'];
      if (typeof login === 'string' && login !== '') {
        if (allowUsers.size > 0 && !allowUsers.has(login)) {
          return { ok: false, status: 403, reason: 'tailscale login not allowed' };
        }
        return { ok: true, identity: { id: `tailscale:${login}`, scopes: FULL_SCOPES } };
      }
    }
    return { ok: false, status: 401, reason: 'no credentials' };
  }

  return { authenticate, checkOrigin };
}
