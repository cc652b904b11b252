// A real OpenID Connect provider (npm `oidc-provider`) on 127.0.0.1 for integration tests.
// Clients use the client_credentials grant; access tokens are JWTs (resource indicators with
// accessTokenFormat "jwt") signed with the provider's first key and carrying a per-client
// `vm_access` claim. Restarting with other keys on the same port simulates key rotation.
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';

export interface OidcClient {
  readonly id: string;
  readonly secret: string;
  /** Put into every access token of this client as the `vm_access` claim (omitted if undefined). */
  readonly vmAccess?: unknown;
}

export interface OidcResource {
  /** The resource indicator a client asks for (`resource=` in the token request). */
  readonly indicator: string;
  /** The `aud` of tokens for it. */
  readonly audience: string;
}

export interface OidcProviderOptions {
  readonly port: number;
  /** Private signing JWKs; the first one signs. Each needs a `kid`. */
  readonly keys: readonly JWK[];
  readonly clients: readonly OidcClient[];
  /** The first one is the default resource. */
  readonly resources: readonly OidcResource[];
}

export interface RunningOidcProvider {
  readonly issuer: string;
  /** A JWT access token for the client, via the client_credentials grant. */
  token(clientId: string, resource?: string): Promise<string>;
  stop(): Promise<void>;
}

/** A fresh RS256 private signing key as a JWK. */
export async function newSigningKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

interface ProviderLike {
  callback(): (req: unknown, res: unknown) => void;
}
type ProviderCtor = new (issuer: string, config: object) => ProviderLike;

export async function startOidcProvider(opts: OidcProviderOptions): Promise<RunningOidcProvider> {
  // oidc-provider ships no type declarations; a non-literal specifier keeps tsc from needing them.
  const specifier = 'oidc-provider';
  const Provider = ((await import(specifier)) as { default: ProviderCtor }).default;
  const issuer = `http://127.0.0.1:${opts.port}`;
  const byId = new Map(opts.clients.map((c) => [c.id, c]));
  const resources = new Map(opts.resources.map((r) => [r.indicator, r]));
  const defaultResource = opts.resources[0]?.indicator;

  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      client_id: c.id,
      client_secret: c.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
    })),
    jwks: { keys: opts.keys },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf ?? defaultResource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          const r = resources.get(indicator);
          if (r === undefined) throw new Error(`unknown resource ${indicator}`);
          return { scope: 'metrics', audience: r.audience, accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    ttl: { ClientCredentials: 300 },
    extraTokenClaims: async (_ctx: unknown, token: { clientId?: string }) => {
      const c = token.clientId === undefined ? undefined : byId.get(token.clientId);
      return c?.vmAccess === undefined ? undefined : { vm_access: c.vmAccess };
    },
  });

  const server: Server = createServer(provider.callback() as Parameters<typeof createServer>[1] & object);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });

  // own connection pool, closed on stop, so a restarted provider never sees a stale socket
  const agent = new Agent({ keepAliveTimeout: 1000 });
  return {
    issuer,
    async token(clientId: string, resource?: string): Promise<string> {
      const c = byId.get(clientId);
      if (c === undefined) throw new Error(`unknown client ${clientId}`);
      const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: c.id, client_secret: c.secret, scope: 'metrics' });
      if (resource !== undefined) body.set('resource', resource);
      const res = await undiciFetch(`${issuer}/token`, { method: 'POST', body, signal: AbortSignal.timeout(5000), dispatcher: agent });
      const json = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (res.status !== 200 || typeof json.access_token !== 'string') {
        throw new Error(`token request for ${clientId} failed: ${res.status} ${json.error ?? ''} ${json.error_description ?? ''}`);
      }
      return json.access_token;
    },
    async stop(): Promise<void> {
      await agent.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
