// A destination's mapping (an object template) as a table of "field sent <- value" rows, kept in
// step with the JSON textarea that stays the form's value (apps/core/widgets.py,
// MappingTableWidget). A value is a reference (profile@data.contact.email.main; a key ending in
// ? is left out when the value is missing) or a constant (text, a number, true, false, null).
// A mapping with nested objects or lists is edited as JSON. "Preview on a profile" renders the
// mapping on a stored profile through the page's preview endpoint.
"use strict";

function el(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "text") element.textContent = value;
    else if (name in element && name !== "list") element[name] = value;
    else element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

function parse(text) {
  if (!text.trim()) return {};
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch (error) {
    return null;
  }
}

const isFlat = (value) => value === null || ["string", "number", "boolean"].includes(typeof value);
const shown = (value) => (typeof value === "string" ? value : JSON.stringify(value));

function typed(text) {
  const trimmed = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (trimmed === "true" || trimmed === "false") return trimmed === "true";
  if (trimmed === "null") return null;
  return text;
}

function csrfToken(root) {
  const input = root.closest("form")?.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

class MappingTable {
  constructor(root) {
    this.root = root;
    this.textarea = root.querySelector("textarea");
    this.body = el("tbody");
    this.table = el(
      "table",
      { className: "cdp-map-table" },
      el("thead", {}, el("tr", {}, el("th", { text: "Field sent" }), el("th", { text: "" }),
        el("th", { text: "Value: a reference (profile@…) or a constant" }), el("th", { text: "" }))),
      this.body,
    );
    this.addButton = el("button", { type: "button", className: "button cdp-map-add", text: "+ field" });
    this.toggle = el("a", { href: "#", className: "cdp-map-toggle", text: "Edit as JSON" });
    this.notice = el("p", { className: "cdp-map-notice", hidden: true });
    this.tableBox = el("div", { className: "cdp-map-box" }, this.table, el("p", {}, this.addButton, " ", this.toggle));
    this.root.prepend(this.notice, this.tableBox);
    this.asJson = false;
    this.addButton.addEventListener("click", () => { this.addRow("", ""); this.body.lastChild.querySelector("input").focus(); });
    this.toggle.addEventListener("click", (event) => { event.preventDefault(); this.asJson = !this.asJson; this.fromText(); });
    this.textarea.addEventListener("input", () => this.fromText());
    if (this.root.dataset.previewUrl) this.buildPreview();
    this.fromText();
  }

  fromText() {
    const mapping = parse(this.textarea.value);
    const flat = mapping !== null && Object.values(mapping).every(isFlat);
    this.toggle.textContent = this.asJson ? "Edit as a table" : "Edit as JSON";
    this.notice.hidden = flat;
    this.notice.textContent = mapping === null
      ? "The mapping below is not a JSON object yet: fix it to edit it as a table."
      : "This mapping has nested objects or lists: it is edited as JSON below.";
    this.table.hidden = !flat || this.asJson;
    this.addButton.hidden = !flat || this.asJson;
    this.textarea.hidden = flat && !this.asJson;
    if (!flat || document.activeElement?.closest?.(".cdp-map-table")) return;
    this.body.replaceChildren();
    for (const [key, value] of Object.entries(mapping)) this.addRow(key, shown(value));
  }

  addRow(key, value) {
    const keyInput = el("input", { type: "text", className: "cdp-map-key", value: key, placeholder: "email" });
    const valueInput = el("input", { type: "text", className: "cdp-map-value", value, placeholder: "profile@data.contact.email.main" });
    const remove = el("button", { type: "button", className: "cdp-map-remove", title: "Remove this field", text: "×" });
    const row = el("tr", {}, el("td", {}, keyInput), el("td", { className: "cdp-map-arrow", text: "←" }), el("td", {}, valueInput), el("td", {}, remove));
    for (const input of [keyInput, valueInput]) {
      input.addEventListener("input", () => this.toText());
      input.addEventListener("keydown", (event) => { if (event.key === "Enter") event.preventDefault(); });
    }
    remove.addEventListener("click", () => { row.remove(); this.toText(); });
    this.body.append(row);
  }

  toText() {
    const mapping = {};
    for (const row of this.body.rows) {
      const key = row.querySelector(".cdp-map-key").value.trim();
      if (key) mapping[key] = typed(row.querySelector(".cdp-map-value").value);
    }
    this.textarea.value = Object.keys(mapping).length ? JSON.stringify(mapping, null, 2) : "{}";
  }

  buildPreview() {
    this.profileInput = el("input", { type: "text", className: "cdp-map-profile", placeholder: "profile id (empty: the latest updated profile)", size: 40 });
    const button = el("button", { type: "button", className: "button cdp-map-preview-button", text: "Preview on a profile" });
    this.output = el("pre", { className: "cdp-map-output", hidden: true });
    this.root.append(el("div", { className: "cdp-map-preview" }, this.profileInput, " ", button), this.output);
    button.addEventListener("click", () => this.preview());
  }

  async preview() {
    const mapping = parse(this.textarea.value);
    this.output.hidden = false;
    this.output.classList.remove("cdp-map-error");
    if (mapping === null) {
      this.output.textContent = "The mapping is not a JSON object.";
      this.output.classList.add("cdp-map-error");
      return;
    }
    this.output.textContent = "Rendering…";
    const response = await fetch(this.root.dataset.previewUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(this.root) },
      body: JSON.stringify({ mapping, profile_id: this.profileInput.value.trim() }),
      credentials: "same-origin",
    });
    const answer = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
    if (answer.error) {
      this.output.textContent = answer.error;
      this.output.classList.add("cdp-map-error");
      return;
    }
    this.output.textContent = `Sent for profile ${answer.profile_id}:\n` + JSON.stringify(answer.payload, null, 2);
  }
}

document.querySelectorAll(".cdp-map").forEach((root) => new MappingTable(root));
