import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpErrorCode } from '../error-catalog.ts';
import { DaytimeError } from '../errors.ts';

// Responses of the playground's app: JSON with a status, security headers on everything.

const MAX_BODY = 16 * 1024;
// The page's own files only: no other origin for scripts, styles, fonts, images or requests.
export const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

// An error the API answers with: only the catalog's API codes, whose status the catalog gives
// (httpStatusOf), so that one place says ERR_NOT_FOUND is a 404.
export class HttpError extends DaytimeError {
  constructor(code: HttpErrorCode, message: string) {
    super(code, message);
  }
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' });
  response.end(`${JSON.stringify(body)}\n`);
}

export function page401(response: ServerResponse): void {
  response.writeHead(401, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' });
  response.end(
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>Token needed</title><body><h1>Token needed</h1>' +
      '<p>Open the address <code>daytime playground</code> printed: it ends in <code>?token=…</code>. ' +
      'Parameters can follow it, as in <code>&amp;backlog=1&amp;clients=8</code>.</p></body></html>\n',
  );
}

export async function readJson(request: IncomingMessage): Promise<unknown> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError('ERR_CONTENT_TYPE', 'send the parameters as JSON (Content-Type: application/json)');
  }
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError('ERR_TOO_LARGE', `a request body is at most ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new HttpError('ERR_BAD_JSON', 'the request body is not valid JSON');
  }
}
