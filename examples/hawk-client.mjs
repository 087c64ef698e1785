// Call a Hawk-protected ferry route with the reference client (@hapi/hawk) and check
// that the response really comes from ferry (its Server-Authorization header).
// Run: FERRY_URL=http://127.0.0.1:8080 HAWK_ID=reader HAWK_KEY=... node examples/hawk-client.mjs
import Hawk from '@hapi/hawk';

const url = `${process.env.FERRY_URL}/api/v1/whoami`;
const credentials = { id: process.env.HAWK_ID, key: process.env.HAWK_KEY, algorithm: 'sha256' };

const { header, artifacts } = Hawk.client.header(url, 'GET', { credentials });
const res = await fetch(url, { headers: { Authorization: header } });
const body = await res.text();
if (res.ok) {
  // Throws unless the response is signed with our key over exactly this body.
  Hawk.client.authenticate({ headers: Object.fromEntries(res.headers) }, credentials, artifacts,
    { payload: body, required: true });
}
console.log(res.status, body.trim());
