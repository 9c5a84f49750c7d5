// Expected arrivals (rule R6) on a wharf dashboard: a declaration received while the page
// is open joins the list the server rendered, soonest first; an amended one replaces its
// row, and one registered as an arrival leaves it. Each snapshot (on connecting, and on
// reconnecting after the socket was away) replaces the whole list, so a declaration made
// or registered while the page was away is not missed. The events carry no names: the
// declaration's page has them.

const FIELDS = ["registration", "vessel_name", "expected_label", "people", "flagged"];

export function createDeclarations(root) {
  const section = root.querySelector("[data-declarations]");
  if (!section) {
    return () => {};
  }
  const list = section.querySelector("[data-declarations-list]");
  const template = section.querySelector("template[data-declaration-template]");
  const count = section.querySelector("[data-declarations-count]");
  const empty = section.querySelector("[data-declarations-empty]");

  function arrived(id) {
    const row = list.querySelector('[data-declaration="' + id + '"]');
    if (row) {
      row.remove();
    }
    counted();
  }

  function counted() {
    count.textContent = String(list.children.length);
    empty.hidden = list.children.length > 0;
  }

  function received(declaration) {
    const row = template.content.firstElementChild.cloneNode(true);
    row.dataset.declaration = String(declaration.id);
    row.dataset.expected = declaration.expected_at;
    row.querySelector('[data-field="link"]').href = section.dataset.urlTemplate.replace(
      /0\/$/,
      declaration.id + "/"
    );
    FIELDS.forEach((name) => {
      row.querySelector('[data-field="' + name + '"]').textContent = String(declaration[name] ?? "");
    });
    row.querySelector('[data-field="flagged-chip"]').hidden = !declaration.flagged;
    row.querySelector('[data-field="ports-chip"]').hidden = !declaration.epidemic_ports;
    const old = list.querySelector('[data-declaration="' + declaration.id + '"]');
    if (old) {
      old.remove();
    }
    const later = Array.from(list.children).find(
      (other) => other.dataset.expected && new Date(other.dataset.expected) > new Date(declaration.expected_at)
    );
    list.insertBefore(row, later || null);
    counted();
  }

  return function handle(message) {
    if (message.type === "snapshot" && Array.isArray(message.declarations)) {
      list.replaceChildren();
      message.declarations.forEach(received);
      counted();
      return;
    }
    if (message.type === "declaration.arrived") {
      arrived(message.declaration);
      return;
    }
    if (message.type === "declaration.received") {
      received(message.declaration);
    }
  };
}
