// A form for a node's config, built from the action's JSON schema. No JSON for the user: free-form
// values (object templates such as a request body) are rows of key, type and value; "Edit as JSON"
// stays as an advanced escape hatch, closed by default.
import { useEffect, useRef, useState } from "react";

function typesOf(schema) {
  if (!schema) return [];
  if (Array.isArray(schema.type)) return schema.type;
  if (schema.type) return [schema.type];
  if (schema.enum) return ["enum"];
  if (schema.properties) return ["object"];
  return [];
}

export function defaultFor(schema) {
  if (!schema) return "";
  if (schema.default !== undefined) return clone(schema.default);
  if (schema.enum) return schema.enum[0];
  const types = typesOf(schema);
  if (types.includes("null")) return null;
  const type = types[0];
  if (type === "boolean") return false;
  if (type === "number" || type === "integer") return 0;
  if (type === "array") return [];
  if (type === "object") {
    const out = {};
    for (const [key, prop] of Object.entries(schema.properties || {})) {
      if ((schema.required || []).includes(key) || prop.default !== undefined) out[key] = defaultFor(prop);
    }
    return out;
  }
  return "";
}

function clone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

const NUMBER = /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

function parseNumberOrText(text, { allowText, nullable }) {
  if (text.trim() === "") return nullable ? null : allowText ? "" : null;
  if (NUMBER.test(text)) return Number(text);
  return allowText ? text : text;
}

function display(value) {
  if (value === null || value === undefined) return "";
  return String(value);
}

// A text box that keeps what the person typed (e.g. "1.") while sending the parsed value.
function NumberishInput({ value, onChange, allowText, nullable, testid, ...rest }) {
  const [text, setText] = useState(display(value));
  const last = useRef(value);
  useEffect(() => {
    if (value !== last.current) {
      last.current = value;
      setText(display(value));
    }
  }, [value]);
  return (
    <input
      type="text"
      inputMode={allowText ? "text" : "decimal"}
      data-testid={testid}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        const parsed = parseNumberOrText(e.target.value, { allowText, nullable });
        last.current = parsed;
        onChange(parsed);
      }}
      {...rest}
    />
  );
}

function NotationCheck({ kind, text, check, path }) {
  const [result, setResult] = useState(null);
  useEffect(() => {
    if (!kind || typeof text !== "string" || text.trim() === "") {
      setResult(null);
      return undefined;
    }
    let live = true;
    const timer = setTimeout(() => {
      check(kind, text)
        .then((answer) => live && setResult(answer))
        .catch(() => live && setResult(null));
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [kind, text, check]);
  if (!result || result.ok) return null;
  const where = [];
  if (result.line != null && result.line !== 1) where.push(`line ${result.line}`);
  if (result.column != null && !new RegExp(`column ${result.column}\\b`).test(result.error || "")) {
    where.push(`column ${result.column}`);
  }
  return (
    <div className="cdpwe-field-error" data-testid={`field-error-${path}`} role="alert">
      {result.error}
      {where.length ? <span className="cdpwe-col"> ({where.join(", ")})</span> : null}
    </div>
  );
}

function Label({ schema, name, path, required }) {
  return (
    <label htmlFor={`cdpwe-${path}`} className={required ? "required" : undefined}>
      {schema.title || name}
    </label>
  );
}

function Help({ schema }) {
  if (!schema.description) return null;
  return <div className="help cdpwe-help">{schema.description}</div>;
}

// Free JSON (the advanced escape hatch of an object template): parsed as typed; `accept` names
// what is wrong with a parsed value ("" when fine); empty text is `emptyValue`.
function JsonValueInput({ value, onChange, testid, id, readOnly, accept, emptyValue = null }) {
  const [text, setText] = useState(value == null ? "" : JSON.stringify(value, null, 2));
  const [error, setError] = useState("");
  const last = useRef(value);
  useEffect(() => {
    if (JSON.stringify(value) !== JSON.stringify(last.current)) {
      last.current = value;
      setText(value == null ? "" : JSON.stringify(value, null, 2));
    }
  }, [value]);
  return (
    <>
      <textarea
        id={id}
        data-testid={testid}
        rows={6}
        className="cdpwe-code"
        spellCheck={false}
        value={text}
        disabled={readOnly}
        onChange={(e) => {
          setText(e.target.value);
          let parsed = emptyValue;
          if (e.target.value.trim() !== "") {
            try {
              parsed = JSON.parse(e.target.value);
            } catch (err) {
              setError(`Not valid JSON yet: ${err.message}`);
              return;
            }
          }
          const wrong = accept ? accept(parsed) : "";
          if (wrong) {
            setError(wrong);
            return;
          }
          setError("");
          last.current = parsed;
          onChange(clone(parsed));
        }}
      />
      {error ? (
        <div className="cdpwe-field-error" data-testid={`${testid}-error`} role="alert">
          {error}
        </div>
      ) : null}
    </>
  );
}

function MapRows({ schema, value, onChange, path, check, readOnly }) {
  const valueSchema =
    schema.additionalProperties && typeof schema.additionalProperties === "object"
      ? schema.additionalProperties
      : null;
  const object = value && typeof value === "object" && !Array.isArray(value) ? value : {};
  const [rows, setRows] = useState(() => Object.entries(object));
  const last = useRef(object);
  useEffect(() => {
    if (JSON.stringify(object) !== JSON.stringify(last.current)) {
      last.current = object;
      setRows(Object.entries(object));
    }
  }, [object]);
  const push = (next) => {
    setRows(next);
    const out = {};
    for (const [k, v] of next) if (k !== "") out[k] = v;
    last.current = out;
    onChange(out);
  };
  const keyKind = schema["x-key-notation"];
  return (
    <div className="cdpwe-rows" data-testid={`field-${path}`}>
      {rows.length ? (
        <div className="cdpwe-map-head">
          <span>{schema["x-key-title"] || "Key"}</span>
          <span>{(valueSchema && valueSchema.title) || "Value"}</span>
        </div>
      ) : null}
      {rows.map(([key, item], index) => (
        <div className="cdpwe-row cdpwe-map-row" key={index}>
          <div className="cdpwe-cell">
            <input
              type="text"
              aria-label={`${path} key ${index + 1}`}
              data-testid={`field-${path}-key-${index}`}
              value={key}
              disabled={readOnly}
              onChange={(e) => push(rows.map((row, i) => (i === index ? [e.target.value, row[1]] : row)))}
            />
            <NotationCheck kind={keyKind} text={key} check={check} path={`${path}-key-${index}`} />
          </div>
          <div className="cdpwe-cell">
            {valueSchema ? (
              <Field
                schema={{ ...valueSchema, title: undefined, description: undefined }}
                value={item}
                path={`${path}.${key || index}`}
                testid={`field-${path}-value-${index}`}
                bare
                check={check}
                readOnly={readOnly}
                onChange={(v) => push(rows.map((row, i) => (i === index ? [row[0], v] : row)))}
              />
            ) : null}
          </div>
          {!readOnly && (
            <button
              type="button"
              className="cdpwe-icon-btn"
              title="Remove this row"
              data-testid={`field-${path}-remove-${index}`}
              onClick={() => push(rows.filter((_, i) => i !== index))}
            >
              ×
            </button>
          )}
        </div>
      ))}
      {!readOnly && (
        <button
          type="button"
          className="cdpwe-add-row"
          data-testid={`field-${path}-add`}
          onClick={() => push([...rows, ["", valueSchema ? defaultFor(valueSchema) : ""]])}
        >
          + Add row
        </button>
      )}
    </div>
  );
}

// Object templates: a request body, Set data's template, an event's properties, a map without a
// value schema. Rows of key + value; a small select types each value: text (a dot path or a
// literal, checked as notation of kind `value`), number, true/false, empty (null), an object (its
// own rows, indented) or a list (rows of values, same choices). What is stored round-trips
// exactly: "10" stays text, 10 stays a number, key order is kept.
const TEMPLATE_TYPES = [
  ["text", "text"],
  ["number", "number"],
  ["boolean", "true/false"],
  ["null", "empty"],
  ["object", "object"],
  ["list", "list"],
];

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function templateType(value) {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "list";
  if (typeof value === "object") return "object";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "boolean";
  return "text";
}

// The value a row gets when its type changes: what can be kept is kept.
function convertTemplateValue(type, value) {
  const from = templateType(value);
  if (type === from) return value;
  if (type === "text") return from === "number" || from === "boolean" ? String(value) : "";
  if (type === "number") {
    if (from === "text" && NUMBER.test(value)) return Number(value);
    if (from === "boolean") return value ? 1 : 0;
    return 0;
  }
  if (type === "boolean") return from === "text" ? value.trim().toLowerCase() === "true" : from === "number" && value !== 0;
  if (type === "object") return {};
  if (type === "list") return from === "object" ? Object.values(value) : from === "null" || from === "text" && value === "" ? [] : [value];
  return null;
}

function templateSummary(value) {
  if (Array.isArray(value)) return value.length === 1 ? "1 item" : `${value.length} items`;
  const count = Object.keys(value).length;
  return count === 1 ? "1 key" : `${count} keys`;
}

// A number typed as text: what the person typed stays (e.g. "1."); the stored value changes only
// when it reads as a number.
function TemplateNumber({ value, onChange, testid, label, readOnly, onValid }) {
  const [text, setText] = useState(display(value));
  const last = useRef(value);
  useEffect(() => {
    if (value !== last.current) {
      last.current = value;
      setText(display(value));
      onValid(true);
    }
  }, [value, onValid]);
  return (
    <input
      type="text"
      inputMode="decimal"
      className="cdpwe-tpl-value"
      aria-label={label}
      data-testid={testid}
      value={text}
      disabled={readOnly}
      onChange={(e) => {
        setText(e.target.value);
        const ok = NUMBER.test(e.target.value);
        onValid(ok);
        if (ok) {
          last.current = Number(e.target.value);
          onChange(last.current);
        }
      }}
    />
  );
}

// One row: [key] type value [×], the notation check of a text value under it, and an object's or
// a list's own rows below, indented.
function TemplateRow({ ids, label, keyProps, value, onChange, onRemove, check, readOnly, autoFocus }) {
  const type = templateType(value);
  const [numberOk, setNumberOk] = useState(true);
  const valueLabel = `${label} value`;
  let control;
  if (type === "text") {
    control = (
      <input
        type="text"
        className="cdpwe-tpl-value"
        aria-label={valueLabel}
        data-testid={ids.value}
        value={value}
        disabled={readOnly}
        spellCheck={false}
        placeholder="a dot path or a value"
        onChange={(e) => onChange(e.target.value)}
      />
    );
  } else if (type === "number") {
    control = (
      <TemplateNumber
        value={value}
        onChange={onChange}
        testid={ids.value}
        label={valueLabel}
        readOnly={readOnly}
        onValid={setNumberOk}
      />
    );
  } else if (type === "boolean") {
    control = (
      <select
        className="cdpwe-tpl-value"
        aria-label={valueLabel}
        data-testid={ids.value}
        value={String(value)}
        disabled={readOnly}
        onChange={(e) => onChange(e.target.value === "true")}
      >
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  } else if (type === "null" && !keyProps) {
    control = (
      <span className="cdpwe-tpl-value cdpwe-tpl-note" data-testid={ids.value}>
        (empty)
      </span>
    );
  } else if (!keyProps) {
    control = <span className="cdpwe-tpl-value cdpwe-tpl-note">{templateSummary(value)}</span>;
  }
  // In an object the value has a line of its own, under its key and type: dot paths are long and
  // the side panel is narrow. A list's item is one line.
  const valueLine = keyProps && (type === "text" || type === "number" || type === "boolean");
  return (
    <div className={keyProps ? "cdpwe-tpl-item cdpwe-tpl-keyed" : "cdpwe-tpl-item"} data-testid={ids.row}>
      <div className="cdpwe-tpl-row">
        {keyProps ? (
          <input
            type="text"
            className="cdpwe-tpl-key"
            aria-label={`${label} key`}
            data-testid={ids.key}
            autoFocus={autoFocus}
            value={keyProps.value}
            placeholder={keyProps.placeholder}
            disabled={readOnly}
            spellCheck={false}
            onChange={(e) => keyProps.onChange(e.target.value)}
          />
        ) : null}
        <select
          className="cdpwe-tpl-type"
          autoFocus={autoFocus && !keyProps}
          aria-label={`${label} type`}
          title="The type of this value"
          data-testid={ids.type}
          value={type}
          disabled={readOnly}
          onChange={(e) => onChange(convertTemplateValue(e.target.value, value))}
        >
          {TEMPLATE_TYPES.map(([option, title]) => (
            <option key={option} value={option}>
              {title}
            </option>
          ))}
        </select>
        {valueLine ? null : control}
        {onRemove && !readOnly ? (
          <button type="button" className="cdpwe-icon-btn" title="Remove this row" data-testid={ids.remove} onClick={onRemove}>
            ×
          </button>
        ) : null}
      </div>
      {valueLine ? <div className="cdpwe-tpl-row cdpwe-tpl-value-line">{control}</div> : null}
      {keyProps && keyProps.kind && !readOnly ? (
        <NotationCheck kind={keyProps.kind} text={keyProps.value} check={check} path={ids.keyError} />
      ) : null}
      {keyProps && keyProps.duplicate ? (
        <div className="cdpwe-field-error" data-testid={`field-error-${ids.keyError}`} role="alert">
          This key is used twice: the last row wins.
        </div>
      ) : null}
      {type === "text" && !readOnly ? <NotationCheck kind="value" text={value} check={check} path={ids.valueError} /> : null}
      {type === "number" && !numberOk ? (
        <div className="cdpwe-field-error" data-testid={`field-error-${ids.valueError}`} role="alert">
          Write a number, e.g. 150 or 2.5.
        </div>
      ) : null}
      {type === "object" || type === "list" ? (
        <div className="cdpwe-tpl-nested">
          {type === "object" ? (
            <TemplateObject value={value} onChange={onChange} path={ids.child} check={check} readOnly={readOnly} />
          ) : (
            <TemplateList value={value} onChange={onChange} path={ids.child} check={check} readOnly={readOnly} />
          )}
        </div>
      ) : null}
    </div>
  );
}

// An object's rows. Rows keep their order and a row with an empty key until it gets one (it is
// not stored without a key).
function TemplateObject({ value, onChange, path, testid, check, readOnly, keyKind, keyTitle, autoRow }) {
  const object = isPlainObject(value) ? value : {};
  const [rows, setRows] = useState(() => {
    const entries = Object.entries(object);
    return entries.length || !autoRow ? entries : [["", ""]];
  });
  const last = useRef(object);
  useEffect(() => {
    if (JSON.stringify(object) !== JSON.stringify(last.current)) {
      last.current = object;
      setRows(Object.entries(object));
    }
  }, [object]);
  const push = (next) => {
    setRows(next);
    const out = {};
    for (const [k, v] of next) if (k !== "") out[k] = v;
    last.current = out;
    onChange(out);
  };
  // The row just added gets the focus (its key).
  const [added, setAdded] = useState(autoRow ? 0 : -1);
  const keys = rows.map((row) => row[0]);
  return (
    <div className="cdpwe-rows cdpwe-tpl" data-testid={testid === undefined ? `field-${path}` : testid || undefined}>
      {rows.map(([key, item], index) => (
        <TemplateRow
          key={index}
          label={`${path} ${key || `row ${index + 1}`}`}
          ids={{
            row: `field-${path}-row-${index}`,
            key: `field-${path}-key-${index}`,
            type: `field-${path}-type-${index}`,
            value: `field-${path}-value-${index}`,
            remove: `field-${path}-remove-${index}`,
            keyError: `${path}-key-${index}`,
            valueError: `${path}-value-${index}`,
            child: `${path}.${key || index}`,
          }}
          keyProps={{
            value: key,
            kind: keyKind,
            placeholder: keyTitle ? keyTitle.toLowerCase() : "key",
            duplicate: key !== "" && keys.indexOf(key) !== index,
            onChange: (k) => push(rows.map((row, i) => (i === index ? [k, row[1]] : row))),
          }}
          value={item}
          check={check}
          readOnly={readOnly}
          onChange={(v) => push(rows.map((row, i) => (i === index ? [row[0], v] : row)))}
          onRemove={() => push(rows.filter((_, i) => i !== index))}
          autoFocus={index === added}
        />
      ))}
      {!rows.length && readOnly ? <span className="cdpwe-muted">No keys.</span> : null}
      {!readOnly && (
        <button
          type="button"
          className="cdpwe-add-row"
          data-testid={`field-${path}-add`}
          onClick={() => {
            setAdded(rows.length);
            push([...rows, ["", ""]]);
          }}
        >
          + Add key
        </button>
      )}
    </div>
  );
}

function TemplateList({ value, onChange, path, testid, check, readOnly }) {
  const items = Array.isArray(value) ? value : [];
  const [added, setAdded] = useState(-1);
  return (
    <div className="cdpwe-rows cdpwe-tpl" data-testid={testid === undefined ? `field-${path}` : testid || undefined}>
      {items.map((item, index) => (
        <TemplateRow
          key={index}
          label={`${path} item ${index + 1}`}
          ids={{
            row: `field-${path}-row-${index}`,
            type: `field-${path}-type-${index}`,
            value: `field-${path}-value-${index}`,
            remove: `field-${path}-remove-${index}`,
            valueError: `${path}-value-${index}`,
            child: `${path}.${index}`,
          }}
          value={item}
          check={check}
          readOnly={readOnly}
          onChange={(v) => onChange(items.map((old, i) => (i === index ? v : old)))}
          onRemove={() => onChange(items.filter((_, i) => i !== index))}
          autoFocus={index === added}
        />
      ))}
      {!items.length && readOnly ? <span className="cdpwe-muted">No items.</span> : null}
      {!readOnly && (
        <button
          type="button"
          className="cdpwe-add-row"
          data-testid={`field-${path}-add`}
          onClick={() => {
            setAdded(items.length);
            onChange([...items, ""]);
          }}
        >
          + Add item
        </button>
      )}
    </div>
  );
}

// A whole object-template field: the rows, "No body" (when it may be empty) with a button to add
// one, object or list (when a list is allowed) and "Edit as JSON" (advanced, closed by default).
// Without `object`/`array` in the schema's types (no type at all) the value may be anything: one
// typed value.
function TemplateField({ schema, value, onChange, path, name, required, bare, check, readOnly, tid }) {
  const types = typesOf(schema);
  const nullable = types.includes("null");
  const allowList = types.includes("array");
  const allowObject = types.includes("object");
  // No type, or scalars allowed too: one typed value.
  const anything = (!allowList && !allowObject) || types.some((t) => !["object", "array", "null"].includes(t));
  const [json, setJson] = useState(false);
  const fresh = useRef(false);
  const title = schema.title || name;
  const shape = templateType(value);
  const accept = (parsed) => {
    if (anything) return "";
    const kind = templateType(parsed);
    if (kind === "null" && nullable) return "";
    if (kind === "object" && allowObject) return "";
    if (kind === "list" && allowList) return "";
    const wanted = [allowObject && "an object {…}", allowList && "a list […]", nullable && "empty"].filter(Boolean);
    return `Write ${wanted.join(" or ")}.`;
  };
  let editor;
  if (json) {
    editor = (
      <JsonValueInput
        id={`cdpwe-${path}`}
        value={value}
        onChange={onChange}
        testid={`${tid}-json`}
        readOnly={readOnly}
        accept={accept}
        emptyValue={nullable || anything ? null : allowObject ? {} : []}
      />
    );
  } else if (anything) {
    editor = (
      <TemplateRow
        label={path}
        ids={{ type: `${tid}-type`, value: tid, valueError: path, child: path }}
        value={value === undefined ? null : value}
        check={check}
        readOnly={readOnly}
        onChange={onChange}
      />
    );
  } else if (shape === "list" && allowList) {
    editor = <TemplateList value={value} onChange={onChange} path={path} testid="" check={check} readOnly={readOnly} />;
  } else if (shape === "null" && nullable) {
    editor = (
      <div className="cdpwe-tpl-none">
        <span className="cdpwe-muted">No {String(title).toLowerCase()}.</span>
        {!readOnly && (
          <button
            type="button"
            className="cdpwe-add-row"
            data-testid={`${tid}-add`}
            onClick={() => {
              fresh.current = true;
              onChange({});
            }}
          >
            + Add {String(title).toLowerCase()}
          </button>
        )}
      </div>
    );
  } else {
    editor = (
      <TemplateObject
        value={value}
        onChange={onChange}
        path={path}
        testid=""
        check={check}
        readOnly={readOnly}
        keyKind={schema["x-key-notation"]}
        keyTitle={schema["x-key-title"]}
        autoRow={fresh.current}
      />
    );
  }
  if (bare) {
    return (
      <div className="cdpwe-tpl-field" data-testid={tid}>
        {editor}
      </div>
    );
  }
  const tools = [];
  if (!json && allowList && allowObject && shape !== "null") {
    tools.push(
      <select
        key="shape"
        className="cdpwe-tpl-shape"
        aria-label={`${title}: an object or a list`}
        data-testid={`${tid}-shape`}
        value={shape === "list" ? "list" : "object"}
        disabled={readOnly}
        onChange={(e) => onChange(convertTemplateValue(e.target.value, value))}
      >
        <option value="object">object {"{…}"}</option>
        <option value="list">list […]</option>
      </select>,
    );
  }
  if (!json && nullable && !anything && shape !== "null" && !readOnly) {
    tools.push(
      <button key="clear" type="button" className="cdpwe-link" data-testid={`${tid}-clear`} onClick={() => onChange(null)}>
        remove {String(title).toLowerCase()}
      </button>,
    );
  }
  tools.push(
    <button
      key="json"
      type="button"
      className="cdpwe-link cdpwe-json-toggle"
      aria-pressed={json}
      title="Advanced: edit the value as JSON"
      data-testid={`${tid}-json-toggle`}
      onClick={() => setJson(!json)}
    >
      {json ? "Edit as rows" : "Edit as JSON"}
    </button>,
  );
  return (
    <div className="cdpwe-field cdpwe-tpl-field" data-testid={tid} role="group" aria-labelledby={`cdpwe-${path}-label`}>
      <div className="cdpwe-label-row">
        <label id={`cdpwe-${path}-label`} htmlFor={json ? `cdpwe-${path}` : undefined} className={required ? "required" : undefined}>
          {title}
        </label>
        <span className="cdpwe-label-tools">{tools}</span>
      </div>
      {editor}
      <Help schema={schema} />
    </div>
  );
}

function ArrayRows({ schema, value, onChange, path, check, readOnly }) {
  const items = Array.isArray(value) ? value : [];
  const itemSchema = schema.items && typeof schema.items === "object" ? schema.items : { type: "string" };
  return (
    <div className="cdpwe-rows" data-testid={`field-${path}`}>
      {items.map((item, index) => (
        <div className="cdpwe-row" key={index}>
          <div className="cdpwe-cell">
            <Field
              schema={{ ...itemSchema, title: undefined, description: undefined }}
              value={item}
              path={`${path}.${index}`}
              bare
              check={check}
              readOnly={readOnly}
              onChange={(v) => onChange(items.map((old, i) => (i === index ? v : old)))}
            />
          </div>
          {!readOnly && (
            <button
              type="button"
              className="cdpwe-icon-btn"
              title="Remove this row"
              data-testid={`field-${path}-remove-${index}`}
              onClick={() => onChange(items.filter((_, i) => i !== index))}
            >
              ×
            </button>
          )}
        </div>
      ))}
      {!readOnly && (
        <button
          type="button"
          className="cdpwe-add-row"
          data-testid={`field-${path}-add`}
          onClick={() => onChange([...items, defaultFor(itemSchema)])}
        >
          + Add row
        </button>
      )}
    </div>
  );
}

// An object template (the `x-form` hint, or by type): a free-form object, list or value, with no
// schema for what is inside: an object without properties or a value schema, several structured
// types (a request body: object, list or nothing), or no type at all.
function isObjectTemplate(schema, main, kind) {
  if (schema["x-form"] === "object-template") return true;
  if (schema.enum || schema.properties || kind) return false;
  if (main.length === 0) return true;
  const valueSchema = schema.additionalProperties && typeof schema.additionalProperties === "object";
  if (main.length === 1) return main[0] === "object" && !valueSchema;
  return main.some((t) => t === "object" || t === "array");
}

// The text of a select's option: `x-enum-labels` names the values where they are ids (the
// resources a connector may use: their names, the stored value their id).
function enumLabel(schema, option, i) {
  const labels = schema["x-enum-labels"];
  if (Array.isArray(labels) && labels[i] != null) return String(labels[i]);
  return option === null ? "(none)" : String(option);
}

export function Field({ schema, value, onChange, path, name, required, bare, check, readOnly, testid }) {
  const types = typesOf(schema);
  const nullable = types.includes("null");
  const main = types.filter((t) => t !== "null");
  const id = `cdpwe-${path}`;
  const tid = testid || `field-${path}`;
  const kind = schema["x-notation"];
  let control;

  if (isObjectTemplate(schema, main, kind)) {
    return (
      <TemplateField
        schema={schema}
        value={value}
        onChange={onChange}
        path={path}
        name={name}
        required={required}
        bare={bare}
        check={check}
        readOnly={readOnly}
        tid={tid}
      />
    );
  }
  if (schema.enum) {
    const options = schema.enum;
    const current = options.findIndex((o) => o === value);
    control = (
      <select
        id={id}
        data-testid={tid}
        value={current < 0 ? "" : String(current)}
        disabled={readOnly}
        onChange={(e) => onChange(e.target.value === "" ? null : options[Number(e.target.value)])}
      >
        {nullable || current < 0 ? <option value="">—</option> : null}
        {options.map((option, i) => (
          <option key={i} value={String(i)}>
            {enumLabel(schema, option, i)}
          </option>
        ))}
      </select>
    );
  } else if (main.length === 0 && kind === "value") {
    // A dot path or a literal: a number when it parses as one.
    control = (
      <NumberishInput
        id={id}
        testid={tid}
        value={value}
        nullable={false}
        allowText
        placeholder="a dot path or a value"
        disabled={readOnly}
        onChange={onChange}
      />
    );
  } else if (main.length === 1 && main[0] === "boolean") {
    const box = (
      <input
        id={id}
        type="checkbox"
        data-testid={tid}
        checked={!!value}
        disabled={readOnly}
        onChange={(e) => onChange(e.target.checked)}
      />
    );
    if (bare) return box;
    return (
      <div className="cdpwe-field">
        <label className="cdpwe-check" htmlFor={id}>
          {box} {schema.title || name}
        </label>
        <Help schema={schema} />
      </div>
    );
  } else if (main.length === 1 && (main[0] === "number" || main[0] === "integer")) {
    control = (
      <NumberishInput
        id={id}
        testid={tid}
        value={value}
        nullable={nullable}
        allowText={false}
        disabled={readOnly}
        onChange={onChange}
      />
    );
  } else if (main.length === 2 && main.includes("string") && (main.includes("number") || main.includes("integer"))) {
    control = (
      <NumberishInput
        id={id}
        testid={tid}
        value={value}
        nullable={nullable}
        allowText
        placeholder="a number or a dot path"
        disabled={readOnly}
        onChange={onChange}
      />
    );
  } else if (main.length === 1 && main[0] === "object" && schema.properties) {
    const required = schema.required || [];
    const object = value && typeof value === "object" && !Array.isArray(value) ? value : {};
    const body = (
      <div className="cdpwe-fieldset-body">
        {Object.entries(schema.properties).map(([key, prop]) => (
          <Field
            key={key}
            schema={prop}
            name={key}
            path={`${path}.${key}`}
            required={required.includes(key)}
            value={object[key] !== undefined ? object[key] : clone(prop.default)}
            check={check}
            readOnly={readOnly}
            onChange={(v) => onChange({ ...object, [key]: v })}
          />
        ))}
      </div>
    );
    if (bare) return body;
    return (
      <fieldset className="cdpwe-fieldset" data-testid={tid}>
        <legend>{schema.title || name}</legend>
        <Help schema={schema} />
        {body}
      </fieldset>
    );
  } else if (main.length === 1 && main[0] === "object") {
    control = <MapRows schema={schema} value={value} onChange={onChange} path={path} check={check} readOnly={readOnly} />;
  } else if (main.length === 1 && main[0] === "array") {
    control = <ArrayRows schema={schema} value={value} onChange={onChange} path={path} check={check} readOnly={readOnly} />;
  } else {
    const multiline = !bare && (kind === "template" || (schema.maxLength || 0) > 200 || schema.format === "textarea");
    const common = {
      id,
      "data-testid": tid,
      value: display(value),
      disabled: readOnly,
      spellCheck: false,
      placeholder: nullable ? "(empty: none)" : undefined,
      onChange: (e) => onChange(e.target.value === "" && nullable ? null : e.target.value),
    };
    control = multiline ? <textarea rows={3} {...common} /> : <input type="text" {...common} />;
  }

  const check_ = kind && !readOnly ? <NotationCheck kind={kind} text={value} check={check} path={path} /> : null;
  if (bare) {
    return (
      <>
        {control}
        {check_}
      </>
    );
  }
  return (
    <div className="cdpwe-field">
      <Label schema={schema} name={name} path={path} required={required} />
      {control}
      {check_}
      <Help schema={schema} />
    </div>
  );
}

export function SchemaForm({ schema, value, onChange, check, readOnly }) {
  const properties = (schema && schema.properties) || {};
  const required = (schema && schema.required) || [];
  const config = value && typeof value === "object" ? value : {};
  const keys = Object.keys(properties);
  if (!keys.length) return <p className="cdpwe-muted">This action has no settings.</p>;
  return (
    <div className="cdpwe-form">
      {keys.map((key) => (
        <Field
          key={key}
          schema={properties[key]}
          name={key}
          path={key}
          required={required.includes(key)}
          value={config[key] !== undefined ? config[key] : clone(properties[key].default)}
          check={check}
          readOnly={readOnly}
          onChange={(v) => onChange({ ...config, [key]: v })}
        />
      ))}
    </div>
  );
}
