// The condition builder (apps/core/widgets.py ConditionBuilderWidget): rows of
// [field] [operator] [value] in AND/OR groups, next to the condition's textarea.
//
// The textarea is the field's value and stays editable. Editing the builder rewrites the text
// (serialize below); text typed in the textarea is sent, debounced, to the check endpoint, which
// answers with the notation's error (message, line, column) or the builder's model of the text
// (apps/notation/builder.py), or null when the builder cannot show it: the builder then says
// so and stays out of the way, and never rewrites what was typed.
//
// Plain JavaScript, no dependencies: the module is served as it is.

const SOURCES = ["profile", "event", "session", "payload", "flow", "memory"];
const SOURCE_PREFIX = new RegExp(`^(?:${SOURCES.join("|")})@`);
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const CHECK_DELAY_MS = 350;

// Operator id -> label and how many values it takes (0, 1, 2 or "list"); `date`: the values
// are dates, `days`: a whole number of days. The ids are those of apps/notation/builder.py.
export const OPERATORS = {
  "=": { label: "equals", values: 1 },
  "!=": { label: "does not equal", values: 1 },
  ">": { label: "greater than", values: 1 },
  ">=": { label: "at least", values: 1 },
  "<": { label: "less than", values: 1 },
  "<=": { label: "at most", values: 1 },
  between: { label: "between", values: 2 },
  contains: { label: "contains", values: 1 },
  "not contains": { label: "does not contain", values: 1 },
  "starts with": { label: "starts with", values: 1 },
  "ends with": { label: "ends with", values: 1 },
  in: { label: "is one of", values: "list" },
  "not in": { label: "is none of", values: "list" },
  exists: { label: "exists", values: 0 },
  "not exists": { label: "does not exist", values: 0 },
  empty: { label: "is empty", values: 0 },
  "not empty": { label: "is not empty", values: 0 },
  "is true": { label: "is true", values: 0 },
  "is false": { label: "is false", values: 0 },
  before: { label: "before", values: 1, date: true },
  after: { label: "after", values: 1, date: true },
  "between dates": { label: "between", values: 2, date: true },
  "in the last days": { label: "in the last … days", values: 1, days: true },
  "more than days ago": { label: "more than … days ago", values: 1, days: true },
};

// The operators offered for a field of each JSON type ("any": a path no sampled row has).
export const OPERATORS_BY_TYPE = {
  string: ["=", "!=", "contains", "not contains", "starts with", "ends with", "in", "not in",
    "exists", "not exists", "empty", "not empty"],
  number: ["=", "!=", ">", ">=", "<", "<=", "between", "in", "exists", "not exists"],
  boolean: ["is true", "is false", "exists", "not exists"],
  date: ["before", "after", "between dates", "in the last days", "more than days ago",
    "exists", "not exists"],
  array: ["contains", "not contains", "empty", "not empty", "exists", "not exists"],
  object: ["exists", "not exists", "empty", "not empty"],
  any: ["=", "!=", ">", ">=", "<", "<=", "between", "contains", "not contains", "starts with",
    "ends with", "in", "not in", "exists", "not exists", "empty", "not empty"],
};

export function operatorsFor(type) {
  return OPERATORS_BY_TYPE[type] || OPERATORS_BY_TYPE.any;
}

// ---------------------------------------------------------------------------------------------
// Serializer: the builder's model as notation text.

const ESCAPES = { "\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** A string literal of the notation: single quotes, backslash escapes. */
export function quote(text) {
  return `'${String(text).replace(/[\\'\n\r\t]/g, (c) => ESCAPES[c])}'`;
}

/** A value literal: numbers and booleans as they are, anything else a quoted string. */
export function literal(value) {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  return quote(value ?? "");
}

/** A field as typed, with the default source when it names none (`plan` -> `profile@plan`). */
export function qualify(field, defaultSource = "profile") {
  const text = String(field || "").trim();
  if (!text || SOURCE_PREFIX.test(text)) return text;
  return `${defaultSource}@${text}`;
}

/** The text of one rule, or "" while it has no field. */
export function serializeRule(rule, defaultSource = "profile") {
  const field = qualify(rule.field, defaultSource);
  if (!field) return "";
  const value = rule.value;
  const pair = Array.isArray(value) ? value : [value, ""];
  const list = Array.isArray(value) ? value : value === undefined || value === "" ? [] : [value];
  const days = String(value ?? "").trim();
  switch (rule.op) {
    case "=": case "!=": case ">": case ">=": case "<": case "<=":
      return `${field} ${rule.op} ${literal(value)}`;
    case "between":
      return `${field} BETWEEN ${literal(pair[0])} AND ${literal(pair[1])}`;
    case "contains": return `${field} CONTAINS ${literal(value)}`;
    case "not contains": return `${field} NOT CONTAINS ${literal(value)}`;
    case "starts with": return `${field} STARTS WITH ${literal(value)}`;
    case "ends with": return `${field} ENDS WITH ${literal(value)}`;
    case "in": return `${field} IN [${list.map(literal).join(", ")}]`;
    case "not in": return `${field} NOT IN [${list.map(literal).join(", ")}]`;
    case "exists": return `${field} EXISTS`;
    case "not exists": return `${field} NOT EXISTS`;
    case "empty": return `${field} EMPTY`;
    case "not empty": return `${field} NOT EMPTY`;
    case "is true": return `${field} = true`;
    case "is false": return `${field} = false`;
    case "before": return `${field} < datetime(${quote(value ?? "")})`;
    case "after": return `${field} > datetime(${quote(value ?? "")})`;
    case "between dates":
      return `${field} BETWEEN datetime(${quote(pair[0] ?? "")}) AND datetime(${quote(pair[1] ?? "")})`;
    case "in the last days": return `${field} >= now.offset(${quote(`-${days}d`)})`;
    case "more than days ago": return `${field} < now.offset(${quote(`-${days}d`)})`;
    default: throw new Error(`Unknown operator ${rule.op}`);
  }
}

/** The text of a group: its rows joined by AND or OR; a nested group of several in parentheses. */
export function serialize(group, defaultSource = "profile", nested = false) {
  const parts = group.items
    .map((item) => (isGroup(item) ? serialize(item, defaultSource, true) : serializeRule(item, defaultSource)))
    .filter((part) => part);
  const text = parts.join(group.op === "or" ? " OR " : " AND ");
  return nested && parts.length > 1 ? `(${text})` : text;
}

function isGroup(item) {
  return Array.isArray(item.items);
}

/** A value typed into an input, as the builder keeps it: a number when the field holds numbers
 * (or may: "any") and the text is one, else the text. */
export function typedValue(text, type, op) {
  const trimmed = text.trim();
  const spec = OPERATORS[op] || {};
  if (spec.date) return trimmed;
  if (spec.days) return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
  const textual = type === "string" || ["contains", "not contains", "starts with", "ends with"].includes(op) && type !== "array";
  if (textual || !NUMBER.test(trimmed)) return text;
  const number = Number(trimmed);
  if (!Number.isFinite(number) || !Number.isSafeInteger(Math.trunc(number))) return text;
  // For a field of unknown type only a number written plainly is a number ("007" stays text).
  if (type !== "number" && String(number) !== trimmed) return text;
  return number;
}

function valueText(value) {
  if (value === undefined || value === null) return "";
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// The widget.

const fieldLists = new Map(); // fields URL -> Promise of {fields, byPath, datalistId}
let openBuilder = null; // the compact builder whose panel is open
let datalistCount = 0;

function loadFields(url) {
  if (!fieldLists.has(url)) {
    const promise = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : { fields: [] }))
      .catch(() => ({ fields: [] }))
      .then(({ fields }) => {
        const datalist = document.createElement("datalist");
        datalist.id = `cdp-cond-fields-${++datalistCount}`;
        for (const field of fields) {
          const option = document.createElement("option");
          option.value = field.path;
          option.label = field.count
            ? `${field.type} · in ${field.count} recent · e.g. ${field.example}`
            : `${field.type} · Tracardi field`;
          datalist.append(option);
        }
        document.body.append(datalist);
        return { fields, byPath: new Map(fields.map((field) => [field.path, field])), datalistId: datalist.id };
      });
    fieldLists.set(url, promise);
  }
  return fieldLists.get(url);
}

function csrfToken(element) {
  const input = element.closest("form")?.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "className") element.className = value;
    else if (name === "text") element.textContent = value;
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value !== false && value !== undefined && value !== null) element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

class ConditionBuilder {
  constructor(root) {
    this.root = root;
    this.textarea = root.querySelector("textarea");
    this.sources = (root.dataset.sources || "profile").split(",");
    this.defaultSource = this.sources[0];
    // A browser without popovers shows the builder above the text box, as for a form field.
    this.compact = root.classList.contains("cdp-cond-compact") && "showPopover" in HTMLElement.prototype;
    this.model = null; // the group shown, or null while the text is not the builder's to show
    this.builderText = null; // the text the builder last wrote
    this.checkSequence = 0;
    this.timer = null;
    this.fields = { byPath: new Map(), datalistId: "" };
    this.loaded = false;

    this.error = el("div", { className: "cdp-cond-error", role: "alert", hidden: true });
    this.tree = el("div", { className: "cdp-cond-tree" });
    this.notice = el("p", { className: "cdp-cond-notice", hidden: true });
    this.builder = el("div", { className: "cdp-cond-builder" }, this.tree, this.notice);
    // Enter in a builder input would submit the admin's form.
    this.builder.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.target.tagName === "INPUT") event.preventDefault();
    });
    root.classList.add("cdp-cond-ready");

    if (this.compact) {
      this.panel = el(
        "div",
        { className: "cdp-cond-panel", popover: "manual" },
        el("div", { className: "cdp-cond-panel-head" },
          el("strong", { text: "Condition" }),
          el("span", { className: "cdp-cond-preview" }),
          el("button", { type: "button", className: "cdp-cond-close", text: "Done", onclick: () => this.close() })),
        this.builder,
        el("div", { className: "cdp-cond-panel-text", title: "The condition as text (the text box in the row)" }),
      );
      this.openButton = el("button", {
        type: "button",
        className: "cdp-cond-open",
        title: "Build this condition from fields, operators and values",
        text: "Builder",
        "aria-expanded": "false",
        onclick: () => (this.isOpen() ? this.close() : this.open()),
      });
      this.textarea.after(this.openButton, this.error);
      root.append(this.panel);
      this.reposition = () => this.place();
      this.panel.addEventListener("keydown", (event) => {
        if (event.key === "Escape") this.close();
      });
    } else {
      root.prepend(this.builder);
      this.textarea.after(this.error);
      this.load();
    }
    this.textarea.addEventListener("input", () => this.textEdited());
  }

  // Opening and loading --------------------------------------------------------------------

  load() {
    if (this.loaded) return;
    this.loaded = true;
    const url = new URL(this.root.dataset.fieldsUrl, window.location.href);
    url.searchParams.set("sources", this.sources.join(","));
    const typeInput = this.root.dataset.eventTypeInput && document.getElementById(this.root.dataset.eventTypeInput);
    if (typeInput && typeInput.value.trim()) url.searchParams.set("event_type", typeInput.value.trim());
    this.tree.textContent = "Loading…";
    loadFields(url.toString()).then((fields) => {
      this.fields = fields;
      if (this.model) this.render();
    });
    this.check(this.textarea.value, true);
  }

  isOpen() {
    return Boolean(this.panel?.matches(":popover-open"));
  }

  open() {
    if (openBuilder && openBuilder !== this) openBuilder.close(); // one panel at a time
    openBuilder = this;
    this.load();
    this.panel.showPopover();
    this.openButton.setAttribute("aria-expanded", "true");
    this.place();
    window.addEventListener("scroll", this.reposition, true);
    window.addEventListener("resize", this.reposition);
    this.updatePreview();
  }

  close() {
    if (!this.isOpen()) return;
    this.panel.hidePopover();
    this.openButton.setAttribute("aria-expanded", "false");
    window.removeEventListener("scroll", this.reposition, true);
    window.removeEventListener("resize", this.reposition);
  }

  place() {
    // A panel in the top layer, under the textarea (or above it when there is more room
    // there), never over it: the table row keeps its width and the text stays in view.
    const anchor = this.textarea.getBoundingClientRect();
    const width = Math.min(760, window.innerWidth - 16);
    const panel = this.panel;
    panel.style.width = `${width}px`;
    panel.style.left = `${Math.max(8, Math.min(anchor.left, window.innerWidth - width - 8))}px`;
    panel.style.maxHeight = "none";
    const height = panel.offsetHeight;
    const below = window.innerHeight - anchor.bottom - 14;
    const above = anchor.top - 14;
    if (height <= below || below >= above) {
      panel.style.top = `${anchor.bottom + 6}px`;
      panel.style.maxHeight = `${Math.max(120, below)}px`;
    } else {
      panel.style.top = `${Math.max(8, anchor.top - 6 - Math.min(height, above))}px`;
      panel.style.maxHeight = `${Math.max(120, above)}px`;
    }
  }

  updatePreview() {
    // The panel repeats the text in full: the row's text box is narrow.
    if (!this.panel) return;
    const text = this.textarea.value.trim();
    this.panel.querySelector(".cdp-cond-preview").textContent = text ? "" : "empty: always true";
    this.panel.querySelector(".cdp-cond-panel-text").textContent = text;
  }

  // Text -> builder --------------------------------------------------------------------------

  textEdited() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(this.textarea.value, true), CHECK_DELAY_MS);
    this.updatePreview();
  }

  async check(text, fromText) {
    const sequence = ++this.checkSequence;
    let answer;
    try {
      const response = await fetch(this.root.dataset.checkUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(this.root), Accept: "application/json" },
        body: new URLSearchParams({ condition: text }),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      answer = await response.json();
    } catch (error) {
      answer = null; // the server still validates the form when it is saved
    }
    if (sequence !== this.checkSequence) return; // a newer check is on its way
    this.showError(answer && !answer.ok ? answer : null, text);
    if (!fromText || !this.loaded) return;
    if (answer && answer.ok && answer.builder) {
      this.model = answer.builder;
      this.builderText = text;
      this.render();
    } else if (answer && answer.ok) {
      this.textOnly("This condition is edited as text: the builder cannot show it (it uses NOT, a function, an aggregate over events or a field compared with a field). The text box keeps it as it is.");
    } else if (answer) {
      this.textOnly("Fix the condition in the text box (see the error) to edit it here.");
    } else {
      this.textOnly("The builder cannot reach the server; edit the condition as text.");
    }
  }

  showError(error, text) {
    this.textarea.toggleAttribute("aria-invalid", Boolean(error));
    this.root.classList.toggle("cdp-cond-invalid", Boolean(error));
    this.error.replaceChildren();
    this.error.hidden = !error;
    if (!error) return;
    this.error.append(el("span", { className: "cdp-cond-message", text: error.message }));
    if (error.line && error.column) {
      // The line around the column (a narrow cell shows a short window), a caret under it.
      const line = text.split("\n")[error.line - 1] ?? "";
      const before = this.compact ? 16 : 60;
      const start = Math.max(0, error.column - 1 - before);
      const snippet = (start ? "…" : "") + line.slice(start, error.column - 1 + before / 2);
      const caret = `${" ".repeat(error.column - 1 - start + (start ? 1 : 0))}^`;
      this.error.append(el("pre", { className: "cdp-cond-caret" }, el("span", { text: snippet }), "\n", el("b", { text: caret })));
    }
  }

  textOnly(message) {
    this.model = null;
    this.tree.replaceChildren();
    this.notice.textContent = message;
    this.notice.hidden = false;
    if (this.isOpen()) this.place();
  }

  // Builder -> text --------------------------------------------------------------------------

  changed({ rerender = false } = {}) {
    const text = serialize(this.model, this.defaultSource);
    this.builderText = text;
    this.textarea.value = text;
    this.updatePreview();
    if (rerender) this.render();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(text, false), CHECK_DELAY_MS);
  }

  fieldType(field) {
    const known = this.fields.byPath.get(qualify(field, this.defaultSource));
    return known ? known.type : "any";
  }

  render() {
    this.notice.hidden = true;
    this.tree.replaceChildren(this.renderGroup(this.model, null, 0));
    if (this.isOpen()) this.place();
  }

  renderGroup(group, parent, depth) {
    const items = el("div", { className: "cdp-cond-items" });
    group.items.forEach((item, index) => {
      const joiner = index ? el("span", { className: "cdp-cond-joiner", text: group.op === "or" ? "or" : "and" }) : null;
      const row = isGroup(item) ? this.renderGroup(item, group, depth + 1) : this.renderRule(item, group);
      items.append(el("div", { className: "cdp-cond-item" }, joiner, row));
    });
    const join = el(
      "select",
      {
        className: "cdp-cond-join",
        "aria-label": "Combine the conditions with",
        onchange: (event) => {
          group.op = event.target.value;
          this.changed({ rerender: true });
        },
      },
      el("option", { value: "and", text: "All of these (AND)" }),
      el("option", { value: "or", text: "Any of these (OR)" }),
    );
    join.value = group.op;
    const actions = el(
      "div",
      { className: "cdp-cond-actions" },
      el("button", {
        type: "button",
        className: "cdp-cond-add",
        text: "+ condition",
        onclick: () => {
          group.items.push({ field: "", op: "=", value: "" });
          this.changed({ rerender: true });
          this.focusLastIn(group);
        },
      }),
      depth < 1
        ? el("button", {
            type: "button",
            className: "cdp-cond-add-group",
            text: "+ group",
            onclick: () => {
              group.items.push({ op: group.op === "and" ? "or" : "and", items: [{ field: "", op: "=", value: "" }] });
              this.changed({ rerender: true });
            },
          })
        : null,
      parent
        ? el("button", {
            type: "button",
            className: "cdp-cond-remove-group",
            text: "Remove group",
            onclick: () => {
              parent.items.splice(parent.items.indexOf(group), 1);
              this.changed({ rerender: true });
            },
          })
        : null,
    );
    const head = el("div", { className: "cdp-cond-group-head" }, join);
    const hint = group.items.length ? null : el("p", { className: "cdp-cond-empty", text: "No conditions: always true. Add one." });
    return el("div", { className: `cdp-cond-group cdp-cond-depth-${depth}`, "data-op": group.op }, head, items, hint, actions);
  }

  focusLastIn(group) {
    // The field input of the row just added (the last one rendered for this group).
    const inputs = [...this.tree.querySelectorAll(".cdp-cond-field")];
    const target = inputs.find((input) => input.cdpRule === group.items[group.items.length - 1]);
    target?.focus();
  }

  renderRule(rule, group) {
    const operator = el("select", { className: "cdp-cond-op", "aria-label": "Operator" });
    const values = el("span", { className: "cdp-cond-values" });
    const field = el("input", {
      className: "cdp-cond-field",
      type: "text",
      value: rule.field,
      list: this.fields.datalistId || null,
      placeholder: `${this.defaultSource}@…`,
      "aria-label": "Field",
      spellcheck: "false",
      autocomplete: "off",
    });
    field.cdpRule = rule;
    let type = this.fieldType(rule.field);
    const refresh = () => {
      const offered = operatorsFor(type);
      if (!OPERATORS[rule.op]) rule.op = offered[0];
      const ids = offered.includes(rule.op) ? offered : [rule.op, ...offered];
      operator.replaceChildren(...ids.map((id) => el("option", { value: id, text: OPERATORS[id].label })));
      operator.value = rule.op;
      this.renderValues(rule, values, type);
    };
    field.addEventListener("input", () => {
      rule.field = field.value;
      const newType = this.fieldType(rule.field);
      if (newType !== type) {
        type = newType;
        if (!operatorsFor(type).includes(rule.op)) rule.op = operatorsFor(type)[0];
        refresh();
      }
      this.changed();
    });
    operator.addEventListener("change", () => {
      const before = OPERATORS[rule.op];
      rule.op = operator.value;
      const after = OPERATORS[rule.op];
      if (before.values !== after.values || before.date !== after.date || before.days !== after.days) {
        rule.value = after.values === 2 ? ["", ""] : after.values === "list" ? [] : after.values ? "" : undefined;
      }
      this.renderValues(rule, values, type);
      this.changed();
    });
    refresh();
    const remove = el("button", {
      type: "button",
      className: "cdp-cond-remove",
      title: "Remove this condition",
      "aria-label": "Remove this condition",
      text: "×",
      onclick: () => {
        group.items.splice(group.items.indexOf(rule), 1);
        this.changed({ rerender: true });
      },
    });
    return el("div", { className: "cdp-cond-rule" }, field, operator, values, remove);
  }

  renderValues(rule, container, type) {
    const spec = OPERATORS[rule.op];
    container.replaceChildren();
    const input = (value, onValue, extra = {}) => {
      const box = el("input", {
        type: "text",
        className: "cdp-cond-value",
        value: valueText(value),
        "aria-label": "Value",
        spellcheck: "false",
        ...extra,
      });
      box.addEventListener("input", () => {
        onValue(box.value);
        this.changed();
      });
      return box;
    };
    const typed = (text) => typedValue(text, type, rule.op);
    if (spec.values === 0) return;
    if (spec.values === "list") {
      const items = Array.isArray(rule.value) ? rule.value : [];
      container.append(
        input(items.map(valueText).join(", "), (text) => {
          rule.value = text.split(",").map((item) => item.trim()).filter((item) => item).map(typed);
        }, { placeholder: "a, b, c", title: "Values separated by commas" }),
      );
      return;
    }
    const placeholder = spec.date ? "2024-12-31" : "value";
    if (spec.values === 2) {
      const pair = Array.isArray(rule.value) ? [...rule.value] : ["", ""];
      rule.value = pair;
      container.append(
        input(pair[0], (text) => { pair[0] = typed(text); }, { placeholder, className: "cdp-cond-value cdp-cond-short" }),
        el("span", { className: "cdp-cond-and", text: "and" }),
        input(pair[1], (text) => { pair[1] = typed(text); }, { placeholder, className: "cdp-cond-value cdp-cond-short" }),
      );
      return;
    }
    if (spec.days) {
      container.append(
        input(rule.value, (text) => { rule.value = typed(text); }, {
          className: "cdp-cond-value cdp-cond-days",
          inputmode: "numeric",
          pattern: "[0-9]+",
          placeholder: "7",
        }),
        el("span", { className: "cdp-cond-unit", text: "days" }),
      );
      return;
    }
    container.append(input(rule.value, (text) => { rule.value = typed(text); }, { placeholder }));
  }
}

function initIn(container) {
  if (!container.querySelectorAll) return;
  for (const root of container.querySelectorAll(".cdp-cond:not(.cdp-cond-ready)")) {
    // The inline formset's template row is cloned when a row is added; it is set up then.
    if (root.closest(".empty-form") || root.querySelector("textarea")?.name.includes("__prefix__")) continue;
    root.cdpConditionBuilder = new ConditionBuilder(root);
  }
}

export function init() {
  initIn(document);
  document.addEventListener("formset:added", (event) => initIn(event.target));
}

if (typeof document !== "undefined" && !window.cdpConditionBuilderStarted) {
  window.cdpConditionBuilderStarted = true;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
}
