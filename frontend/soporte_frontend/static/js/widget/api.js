// The widget's HTTP calls: never a cookie (third-party cookies may be blocked, and a
// Soporte session of the same browser must not be used), the visitor's token in
// `Authorization: Bearer`, never in a URL.

import { ApiError } from "../api.js";

// No answer by then and the call fails (a hung connection must never leave the visitor,
// or the socket waiting for its token, waiting for ever).
export const REQUEST_TIMEOUT_MS = 10000;

/** The service did not answer in time. */
export class RequestTimeoutError extends Error {}

async function request(method, path, { body, token, keepalive = false } = {}) {
  const headers = body ? { "Content-Type": "application/json" } : {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "omit",
      headers,
      body: body ? JSON.stringify(body) : undefined,
      keepalive,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    if (err?.name === "TimeoutError") throw new RequestTimeoutError(`${method} ${path.split("?")[0]}: no answer in ${REQUEST_TIMEOUT_MS / 1000} s`);
    throw err;
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(response.status, (data && data.error) || response.statusText);
    error.code = data && data.codigo;
    throw error;
  }
  return data;
}

export const widgetApi = {
  /** A visitor about to send its first message (anonymous, or the identity's user). */
  createVisitor: (sitio, identidad) => request("POST", "/api/auth/visitantes", { body: identidad ? { sitio, identidad } : { sitio } }),
  /** A fresh token for a visitor that exists: `{credencial}` or `{identidad}`. */
  session: (sitio, proof) => request("POST", "/api/auth/visitantes/sesion", { body: { sitio, ...proof } }),
  conversation: (token, params) => request("GET", `/api/mensajes/mios?${new URLSearchParams(params)}`, { token }),
  markRead: (token, hasta, options = {}) => request("POST", "/api/mensajes/leidos", { body: { hasta }, token, ...options }),
};
