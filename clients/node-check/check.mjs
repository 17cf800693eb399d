// A posting service's token check in Node, with `jose` and the issuer URL alone:
//   echo "$TOKEN" | node check.mjs https://id.example plt_yourplatform
// fetches the issuer's RFC 8414 metadata, verifies the token offline against the JWKS it names
// (EdDSA only; iss, aud, exp, nbf with 30 s leeway) and prints the claims as JSON.
// Exit 0: valid. Exit 1: invalid token (the reason on stderr). Exit 2: usage or discovery failed.
// The token is read from stdin, not argv, so it never shows in a process listing.
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [issuer, audience] = process.argv.slice(2);
if (!issuer || !audience) {
  console.error('usage: node check.mjs ISSUER_URL AUDIENCE  (the token on stdin)');
  process.exit(2);
}
const token = readFileSync(0, 'utf8').trim();

// RFC 8414 section 3: the well-known segment goes before any path the issuer has.
const issuerUrl = new URL(issuer);
const metadataUrl = new URL(
  `/.well-known/oauth-authorization-server${issuerUrl.pathname.replace(/\/$/, '')}`, issuerUrl);

let metadata;
try {
  const response = await fetch(metadataUrl, { headers: { Accept: 'application/json' }, redirect: 'error' });
  if (!response.ok) throw new Error(`${metadataUrl} answered ${response.status}`);
  metadata = await response.json();
} catch (error) {
  console.error(`discovery failed: ${error.message}`);
  process.exit(2);
}
// Section 3.3: a server must not name endpoints for an issuer it is not.
if (metadata.issuer !== issuer || typeof metadata.jwks_uri !== 'string') {
  console.error('discovery failed: the metadata names another issuer or no jwks_uri');
  process.exit(2);
}

// jose caches the key set (cacheMaxAge, 10 min) and refetches it on an unknown kid, at most
// once per cooldownDuration (30 s), so made-up kids cannot flood the service.
const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
try {
  const { payload } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    algorithms: ['EdDSA'],
    clockTolerance: 30,
    requiredClaims: ['sub', 'exp', 'nbf', 'iat', 'jti'],
  });
  console.log(JSON.stringify(payload));
} catch (error) {
  console.error(`invalid token: ${error.code ?? error.message}`);
  process.exit(1);
}
