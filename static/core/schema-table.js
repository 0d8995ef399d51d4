// An event type's JSON schema as a table of properties (name, type, required), kept in step with
// the JSON textarea that stays the form's value (apps/core/widgets.py, SchemaTableWidget).
// "Generate from recent events" asks the page's suggestion endpoint for a schema built from the
// type's recent events. A schema the table cannot show (nested objects, formats, enums...) is
// edited as JSON. An empty table means no schema: events of the type are not validated.
"use strict";

const TYPES = ["string", "number", "integer", "boolean", "array", "object"];

function el(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "text") element.textContent = value;
    else if (name in element) element[name] = value;
    else element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

function parse(text) {
  if (!text.trim() || text.trim() === "null") return { ok: true, schema: null };
  try {
    return { ok: true, schema: JSON.parse(text) };
  } catch (error) {
    return { ok: false };
  }
}

// The rows the table shows for a schema, or null when the table cannot show it.
function rowsOf(schema) {
  if (schema === null) return [];
  if (typeof schema !== "object" || Array.isArray(schema) || schema.type !== "object") return null;
  if (Object.keys(schema).some((key) => !["type", "properties", "required"].includes(key))) return null;
  const required = new Set(schema.required || []);
  const rows = [];
  for (const [name, spec] of Object.entries(schema.properties || {})) {
    if (!spec || typeof spec !== "object" || Object.keys(spec).some((key) => key !== "type")) return null;
    if (!TYPES.includes(spec.type)) return null;
    rows.push({ name, type: spec.type, required: required.has(name) });
  }
  return rows;
}

class SchemaTable {
  constructor(root) {
    this.root = root;
    this.textarea = root.querySelector("textarea");
    this.body = el("tbody");
    this.table = el(
      "table",
      { className: "cdp-schema-table" },
      el("thead", {}, el("tr", {}, el("th", { text: "Property" }), el("th", { text: "Type" }), el("th", { text: "Required" }), el("th", { text: "" }))),
      this.body,
    );
    this.empty = el("p", { className: "cdp-schema-empty", text: "No properties: events of this type are not validated." });
    this.addButton = el("button", { type: "button", className: "button cdp-schema-add", text: "+ property" });
    this.generateButton = el("button", { type: "button", className: "button cdp-schema-generate", text: "Generate from recent events" });
    this.toggle = el("a", { href: "#", className: "cdp-schema-toggle", text: "Edit as JSON" });
    this.status = el("span", { className: "cdp-schema-status" });
    this.notice = el("p", { className: "cdp-schema-notice", hidden: true });
    this.box = el("div", { className: "cdp-schema-box" }, this.table, this.empty);
    const tools = el("p", { className: "cdp-schema-tools" }, this.addButton, " ", this.generateButton, " ", this.toggle, " ", this.status);
    this.root.prepend(this.notice, this.box, tools);
    this.asJson = false;
    this.addButton.addEventListener("click", () => { this.addRow({ name: "", type: "string", required: false }); this.body.lastChild.querySelector("input").focus(); });
    this.generateButton.addEventListener("click", () => this.generate());
    this.toggle.addEventListener("click", (event) => { event.preventDefault(); this.asJson = !this.asJson; this.fromText(); });
    this.textarea.addEventListener("input", () => this.fromText());
    if (!root.dataset.suggestUrl) this.generateButton.hidden = true;
    this.fromText();
  }

  fromText() {
    const parsed = parse(this.textarea.value);
    const rows = parsed.ok ? rowsOf(parsed.schema) : null;
    const tabular = rows !== null;
    this.toggle.textContent = this.asJson ? "Edit as a table" : "Edit as JSON";
    this.notice.hidden = tabular;
    this.notice.textContent = parsed.ok
      ? "This schema uses more than property types (nested objects, formats, limits...): it is edited as JSON below."
      : "The schema below is not valid JSON yet: fix it to edit it as a table.";
    this.box.hidden = !tabular || this.asJson;
    this.addButton.hidden = !tabular || this.asJson;
    this.textarea.hidden = tabular && !this.asJson;
    if (!tabular || document.activeElement?.closest?.(".cdp-schema-table")) return;
    this.body.replaceChildren();
    rows.forEach((row) => this.addRow(row));
    this.empty.hidden = rows.length > 0;
  }

  addRow(row) {
    const name = el("input", { type: "text", className: "cdp-schema-name", value: row.name, placeholder: "order_id" });
    const type = el("select", { className: "cdp-schema-type" }, ...TYPES.map((t) => el("option", { value: t, text: t, selected: t === row.type })));
    const required = el("input", { type: "checkbox", className: "cdp-schema-required", checked: row.required });
    const remove = el("button", { type: "button", className: "cdp-schema-remove", title: "Remove this property", text: "×" });
    const tr = el("tr", {}, el("td", {}, name), el("td", {}, type), el("td", {}, required), el("td", {}, remove));
    name.addEventListener("input", () => this.toText());
    name.addEventListener("keydown", (event) => { if (event.key === "Enter") event.preventDefault(); });
    type.addEventListener("change", () => this.toText());
    required.addEventListener("change", () => this.toText());
    remove.addEventListener("click", () => { tr.remove(); this.toText(); });
    this.body.append(tr);
    this.empty.hidden = true;
  }

  toText() {
    const properties = {};
    const required = [];
    for (const tr of this.body.rows) {
      const name = tr.querySelector(".cdp-schema-name").value.trim();
      if (!name) continue;
      properties[name] = { type: tr.querySelector(".cdp-schema-type").value };
      if (tr.querySelector(".cdp-schema-required").checked) required.push(name);
    }
    if (!Object.keys(properties).length) {
      this.textarea.value = "null";
      return;
    }
    const schema = { type: "object", properties };
    if (required.length) schema.required = required;
    this.textarea.value = JSON.stringify(schema, null, 2);
  }

  async generate() {
    const typeInput = document.getElementById(this.root.dataset.typeInput);
    const type = typeInput ? typeInput.value.trim() : "";
    const url = `${this.root.dataset.suggestUrl}?type=${encodeURIComponent(type)}`;
    this.status.textContent = "Reading recent events…";
    const response = await fetch(url, { credentials: "same-origin" });
    const answer = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
    if (answer.error) {
      this.status.textContent = answer.error;
      return;
    }
    if (!answer.sampled) {
      this.status.textContent = `No stored event of type ${type} yet: nothing to learn from.`;
      return;
    }
    this.textarea.value = JSON.stringify(answer.schema, null, 2);
    this.asJson = false;
    this.fromText();
    this.status.textContent = `Made from the ${answer.sampled} most recent event(s); check it, then save.`;
  }
}

document.querySelectorAll(".cdp-schema").forEach((root) => new SchemaTable(root));
