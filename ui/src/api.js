// Every request of the pages: same origin only, the read token as a Bearer header when set,
// and failures turned into errors whose message says what went wrong in the API's own words.

import { askToken, currentToken } from './token.js';

export class ApiError extends Error {
  constructor(status, detail, path) {
    super(describe(status, detail));
    this.status = status;
    this.detail = detail;
    this.path = path;
  }
}

function describe(status, detail) {
  const head = status ? `${status}` : 'No answer';
  if (Array.isArray(detail)) {
    const parts = detail.map((e) => {
      const where = Array.isArray(e.loc) ? e.loc.join('.') : '';
      const got = e.input !== undefined && e.input !== null ? ` (got ${JSON.stringify(e.input)})` : '';
      return `${where}: ${e.msg}${got}`;
    });
    return `${head}: ${parts.join('; ')}`;
  }
  return `${head}: ${detail || 'request failed'}`;
}

async function send(path, accept) {
  let refused = false;
  for (;;) {
    const headers = { Accept: accept };
    const token = currentToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(path, { headers, credentials: 'omit', redirect: 'error' });
    } catch {
      throw new ApiError(0, 'the service did not answer (network error)', path);
    }
    if (response.status === 401) {
      const next = await askToken(refused || Boolean(token));
      if (next === null) throw new ApiError(401, 'a read token is required', path);
      refused = true;
      continue;
    }
    if (!response.ok) {
      let detail = response.statusText;
      try {
        const body = await response.json();
        detail = body.detail ?? detail;
      } catch {
        // Not JSON: keep the status text.
      }
      throw new ApiError(response.status, detail, path);
    }
    return response;
  }
}

export async function getJSON(path) {
  return (await send(path, 'application/json')).json();
}

export async function getText(path) {
  return (await send(path, 'text/plain')).text();
}

// Path segments are encoded; `@` in file names stays as the collectors send it.
export function seg(value) {
  return encodeURIComponent(String(value)).replace(/%40/g, '@');
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
