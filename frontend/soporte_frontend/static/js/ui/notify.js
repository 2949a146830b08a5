// Telling the person about new messages when the tab is in the background: the unread
// count in the title, and (once they switch it on) a desktop notification and a beep.

import { t } from "../i18n.js";

const STORAGE_KEY = "soporte.avisos";
const PREVIEW_CHARS = 140;
const BEEP_HZ = 880;
const BEEP_SECONDS = 0.25;

export class Notifier {
  #audio = null;

  constructor({ button, status }) {
    this.button = button;
    this.status = status;
    this.enabled = localStorage.getItem(STORAGE_KEY) === "1";
  }

  async toggle() {
    if (this.enabled) {
      this.enabled = false;
    } else {
      this.#audio ??= new AudioContext(); // made on a click: browsers allow sound after one
      const permission = "Notification" in window ? await Notification.requestPermission() : "denied";
      this.enabled = true; // the sound works even when notifications are blocked
      if (permission !== "granted") this.status.show(t("notify.denied"), { autoHide: true });
    }
    localStorage.setItem(STORAGE_KEY, this.enabled ? "1" : "0");
    this.render();
  }

  render() {
    this.button.setAttribute("aria-pressed", String(this.enabled));
    this.button.textContent = this.enabled ? t("notify.on") : t("notify.enable");
  }

  showUnread(total) {
    document.title = total ? `(${total}) ${t("app.title")}` : t("app.title");
  }

  /** A message from `name` came while the tab is hidden. */
  alert(name, text) {
    if (!this.enabled) return;
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification(`${t("app.title")} — ${name}`, { body: text.slice(0, PREVIEW_CHARS), tag: "soporte" });
    }
    if (this.#audio) this.#beep(this.#audio);
  }

  #beep(audio) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = BEEP_HZ;
    gain.gain.setValueAtTime(0.08, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + BEEP_SECONDS);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + BEEP_SECONDS);
  }
}
