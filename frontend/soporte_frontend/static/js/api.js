// The HTTP calls the pages make (same origin, cookie-authenticated).

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Without a session (never signed in, signed out, expired) the way on is the login page. */
export function goToLogin() {
  window.location.assign("/");
}

async function request(method, path, body, { keepalive = false } = {}) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    keepalive, // true: the request outlives the page (sent while leaving it)
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null); // not every answer is JSON
  if (!response.ok) throw new ApiError(response.status, (data && data.error) || response.statusText);
  return data;
}

/** Where an agent downloads everything held about a customer (a JSON attachment). */
export function exportPath(usuario) {
  return `/api/usuarios/${encodeURIComponent(usuario)}/exportar`;
}

export const api = {
  me: () => request("GET", "/api/auth/me"),
  login: (usuario, password) => request("POST", "/api/auth/login", { usuario, password }),
  register: (usuario, nombre, password) => request("POST", "/api/auth/register", { usuario, nombre, password }),
  logout: () => request("POST", "/api/auth/logout"),
  conversation(usuario, params) {
    const query = new URLSearchParams(params);
    if (usuario) query.set("con", usuario);
    return request("GET", `${usuario ? "/api/mensajes" : "/api/mensajes/mios"}?${query}`);
  },
  conversations: (params = {}) => request("GET", `/api/usuarios-conversaciones?${new URLSearchParams(params)}`),
  markRead: (hasta, con, options) => request("POST", "/api/mensajes/leidos", con ? { hasta, con } : { hasta }, options),
  seen: (con) => request("GET", `/api/mensajes/visto${con ? `?${new URLSearchParams({ con })}` : ""}`),
  responseTime: () => request("GET", "/api/soporte/tiempo-respuesta"),
  // Agents only: the workflow.
  counts: () => request("GET", "/api/usuarios-conversaciones/recuento"),
  agents: () => request("GET", "/api/agentes"),
  cannedReplies: () => request("GET", "/api/respuestas"),
  createReply: (reply) => request("POST", "/api/respuestas", reply),
  updateReply: (id, reply) => request("PUT", `/api/respuestas/${encodeURIComponent(id)}`, reply),
  deleteReply: (id) => request("DELETE", `/api/respuestas/${encodeURIComponent(id)}`),
  searchMessages: (q, limit) => request("GET", `/api/buscar?${new URLSearchParams({ q, limit })}`),
  sites: () => request("GET", "/api/auth/sitios"),
  report: (dias) => request("GET", `/api/informes?${new URLSearchParams({ dias })}`),
  // Agents only: privacy requests and the audit trail.
  eraseCustomer: (usuario) => request("DELETE", `/api/usuarios/${encodeURIComponent(usuario)}`),
  auditTrail: (params) => request("GET", `/api/auditoria?${new URLSearchParams(params)}`),
};
