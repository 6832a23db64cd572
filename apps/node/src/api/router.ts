// A small router: method + path pattern (`/v1/regions/:name/stat`) to a handler.
import { ApiError } from './errors.js';

/** A response a handler returns. */
export interface ApiResponse {
  readonly status?: number;
  /** A value sent as JSON, or a string sent as text/plain. */
  readonly body: unknown;
  readonly contentType?: string;
}

/** What a handler gets. */
export interface RouteRequest {
  readonly method: string;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  /** Reads and returns the body (bounded). */
  readonly body: () => Promise<Buffer>;
  readonly headers: Record<string, string | string[] | undefined>;
}

export type RouteHandler = (req: RouteRequest) => ApiResponse | Promise<ApiResponse>;

interface Route {
  readonly method: string;
  readonly pattern: string;
  readonly segments: readonly string[];
  readonly handler: RouteHandler;
}

/** A matched route. */
export interface RouteMatch {
  readonly pattern: string;
  readonly handler: RouteHandler;
  readonly params: Record<string, string>;
}

const SEGMENT = /^[A-Za-z0-9._~-]{1,128}$/;

/** Routes by method and path; 404 for unknown paths, 405 (with Allow) for known paths and other methods. */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method, pattern, segments: pattern.split('/').filter((s) => s !== ''), handler });
    return this;
  }

  /** Finds the route; throws ApiError 404 / 405 / 400 (bad path parameter). */
  match(method: string, pathname: string): RouteMatch {
    const parts = pathname.split('/').filter((s) => s !== '');
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (params === null) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      return { pattern: route.pattern, handler: route.handler, params };
    }
    if (allowed.length > 0) {
      throw new ApiError(405, 'method-not-allowed', `${method} is not allowed on ${pathname}; use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });
    }
    throw new ApiError(404, 'not-found', `no route ${pathname}; the routes are ${[...new Set(this.routes.map((r) => `${r.method} ${r.pattern}`))].join(', ')}`);
  }
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith(':')) {
      let value: string;
      try {
        value = decodeURIComponent(parts[i]);
      } catch {
        throw new ApiError(400, 'bad-path', `path segment "${parts[i]}" is not valid percent-encoding`);
      }
      if (!SEGMENT.test(value)) throw new ApiError(400, 'bad-path', `${p.slice(1)} "${value}" is not a valid name: use 1 to 128 letters, digits, ".", "_", "~" or "-"`);
      params[p.slice(1)] = value;
    } else if (p !== parts[i]) return null;
  }
  return params;
}
