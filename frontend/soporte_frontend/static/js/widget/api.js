// The widget's HTTP calls: never a cookie (third-party cookies may be blocked, and a
// Soporte session of the same browser must not be used), the visitor's token in
// `Authorization: Bearer`, never in a URL.

import { ApiError } from "../api.js";

async function request(method, path, { body, token, keepalive = false } = {}) {
  const headers = body ? { "Content-Type": "application/json" } : {};
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method,
    credentials: "omit",
    headers,
    body: body ? JSON.stringify(body) : undefined,
    keepalive,
  });
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
