// Who the visitor is: nobody yet (a page view creates nothing), an anonymous visitor
// (its long-lived credential kept by the loader on the company's page), or the site's user its identity names (nothing kept: the company's page vouches
// each time). Each is exchanged for a short-lived token.
//
// Anonymous and verified threads are kept apart: identifying forgets the anonymous
// credential and never merges its thread, so what someone wrote anonymously on a shared
// computer reaches neither the account of whoever signs in next nor, once they leave,
// the next visitor.

import { ApiError } from "../api.js";
import { ERROR_CODES } from "../contract.js";
import { widgetApi } from "./api.js";

export class IdentityRefusedError extends Error {}

export class VisitorSession {
  /** `keep(credencial)`: remember an anonymous visitor's credential in this browser (null:
   * forget it). The loader keeps it in its host page's storage, which browsers give a
   * site's own pages even when they block a framed page's cookies and storage. */
  constructor(site, { keep }) {
    this.site = site;
    this.keep = keep;
    this.credential = null; // the anonymous visitor's, as the loader remembered it
    this.identity = null; // the JWT the company's page gave, or null
    this.visitor = null; // the answer of auth: {usuario, nombre, token, expira, ...}
  }

  get token() {
    return this.visitor?.token ?? null;
  }

  #store(credencial) {
    this.credential = credencial;
    this.keep(credencial);
  }

  /** Forget the visitor in this browser (Soporte.logout()). */
  forget() {
    this.#store(null);
    this.identity = null;
    this.visitor = null;
  }

  /** The page says who the visitor is (null: nobody). An anonymous visitor is forgotten. */
  identify(identity) {
    this.identity = identity || null;
    if (this.identity && this.credential) this.#store(null);
    this.visitor = null;
  }

  /** The visitor this browser already is, with a fresh token; null when there is none yet.
   * IdentityRefusedError when the page's identity is refused. */
  async resume() {
    const proof = this.identity ? { identidad: this.identity } : this.credential ? { credencial: this.credential } : null;
    if (!proof) return (this.visitor = null);
    try {
      this.visitor = await widgetApi.session(this.site, proof);
    } catch (err) {
      if (err instanceof ApiError && err.code === ERROR_CODES.VISITOR_UNKNOWN) {
        if (!this.identity) this.#store(null); // erased, or from another site: start afresh
        return (this.visitor = null);
      }
      throw refusal(err);
    }
    return this.visitor;
  }

  /** Become a visitor, right before the first message. */
  async create() {
    try {
      this.visitor = await widgetApi.createVisitor(this.site, this.identity);
    } catch (err) {
      throw refusal(err);
    }
    if (this.visitor.credencial) this.#store(this.visitor.credencial);
    return this.visitor;
  }
}

function refusal(err) {
  if (err instanceof ApiError && err.code === ERROR_CODES.IDENTITY_INVALID) return new IdentityRefusedError(err.message);
  return err;
}
