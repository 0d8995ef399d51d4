// A form for a node's config, built from the action's JSON schema (never JSON for the user,
// except a free-form value such as a request body, which has no schema to build a form from).
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

// Free JSON for values without a schema (advanced); parsed on blur.
function JsonValueInput({ value, onChange, testid, id }) {
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
        rows={4}
        className="cdpwe-code"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === "") {
            setError("");
            last.current = null;
            onChange(null);
            return;
          }
          try {
            const parsed = JSON.parse(e.target.value);
            setError("");
            last.current = parsed;
            onChange(parsed);
          } catch (err) {
            setError(`Not valid JSON yet: ${err.message}`);
          }
        }}
      />
      {error ? <div className="cdpwe-field-error">{error}</div> : null}
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
            ) : (
              <AnyValue
                value={item}
                testid={`field-${path}-value-${index}`}
                readOnly={readOnly}
                onChange={(v) => push(rows.map((row, i) => (i === index ? [row[0], v] : row)))}
              />
            )}
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

// A value of any type in a map without a value schema: text (a number when it parses as one);
// objects and lists as JSON (advanced).
function AnyValue({ value, onChange, testid, readOnly }) {
  if (value !== null && typeof value === "object") {
    return <JsonValueInput value={value} onChange={onChange} testid={testid} />;
  }
  return (
    <NumberishInput
      value={value}
      allowText
      nullable={false}
      testid={testid}
      disabled={readOnly}
      onChange={onChange}
    />
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

export function Field({ schema, value, onChange, path, name, required, bare, check, readOnly, testid }) {
  const types = typesOf(schema);
  const nullable = types.includes("null");
  const main = types.filter((t) => t !== "null");
  const id = `cdpwe-${path}`;
  const tid = testid || `field-${path}`;
  const kind = schema["x-notation"];
  let control;

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
            {option === null ? "(none)" : String(option)}
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
  } else if (main.length === 0 && !kind && !schema.properties) {
    control = <AnyValue value={value} onChange={onChange} testid={tid} readOnly={readOnly} />;
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
  } else if (main.length > 1 || main[0] === "object" || main[0] === "array") {
    // Several structured types (e.g. a request body: object, list or nothing): advanced JSON.
    control = <JsonValueInput id={id} value={value} onChange={onChange} testid={tid} />;
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
