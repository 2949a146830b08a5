// What a status or assignment entry of a conversation's log says, as a line of the agent's
// thread ("Ana resolved the conversation"). `nameOf(usuario)`: an agent's display name.

import { CONVERSATION_STATES, ENTRY_TYPES } from "../contract.js";
import { formatTime, t } from "../i18n.js";

/** The sentence for an `estado` or `asignacion` entry (`de` null: Soporte did it). */
export function describeChange(entry, nameOf) {
  const who = entry.de ? nameOf(entry.de) : null;
  if (entry.tipo === ENTRY_TYPES.STATUS) {
    const key = `entry.${entry.estado}${who ? "" : ".auto"}`;
    const time = entry.estado === CONVERSATION_STATES.SNOOZED && entry.hasta ? formatTime(entry.hasta) : "";
    return t(key, { who, time });
  }
  if (!entry.asignado) return t(who ? "entry.unassigned" : "entry.unassigned.auto", { who });
  const name = nameOf(entry.asignado);
  if (!who) return t("entry.assigned.auto", { name });
  return t(entry.de === entry.asignado ? "entry.assigned.self" : "entry.assigned", { who, name });
}
