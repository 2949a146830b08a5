// The page's frame: who is signed in, and which pane shows. On a narrow screen an agent
// sees the list or the open conversation (body.viendo-hilo), with a way back to the list.

export class Layout {
  constructor({ who, listPanel, back, filter }) {
    this.who = who;
    this.listPanel = listPanel;
    this.back = back;
    this.filter = filter;
  }

  identify(me, agent) {
    document.body.dataset.rol = me.rol;
    this.who.textContent = me.nombre;
    this.who.dir = "auto";
    this.listPanel.hidden = !agent;
  }

  showThread(agent) {
    document.body.classList.add("viendo-hilo");
    this.back.hidden = !agent;
  }

  showList() {
    document.body.classList.remove("viendo-hilo");
    this.back.hidden = true;
    this.filter.focus();
  }
}
