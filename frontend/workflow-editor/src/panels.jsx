// The side panels: palette (left), node config / run details, test run and rules (right).
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { SchemaForm } from "./SchemaForm.jsx";
import { nodeName, nodeSpec } from "./graph.js";

export function Palette({ cat, hasStart, onAdd, readOnly }) {
  const [query, setQuery] = useState("");
  const [docs, setDocs] = useState(null);
  const listRef = useRef(null);
  // The docs pane takes room under the list: keep the clicked item in view (and clickable).
  useLayoutEffect(() => {
    if (!docs || !listRef.current) return;
    const item = listRef.current.querySelector(`[data-testid="palette-${docs.id}"]`);
    if (item) item.scrollIntoView({ block: "nearest" });
  }, [docs]);
  const q = query.trim().toLowerCase();
  const families = useMemo(
    () =>
      cat.families
        .map((family) => ({
          ...family,
          actions: (family.actions || []).filter(
            (a) =>
              !(a.id === "start" && hasStart) &&
              (!q ||
                a.name.toLowerCase().includes(q) ||
                (a.description || "").toLowerCase().includes(q) ||
                (a.plugin ? a.plugin.package.toLowerCase().includes(q) : false) ||
                a.id.toLowerCase().includes(q)),
          ),
        }))
        .filter((family) => family.actions.length),
    [cat, q, hasStart],
  );
  return (
    <aside className="cdpwe-palette" aria-label="Actions">
      <input
        type="search"
        className="cdpwe-search"
        placeholder="Search actions…"
        data-testid="palette-search"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      <div className="cdpwe-palette-list" ref={listRef}>
        {families.map((family) => (
          <div className="cdpwe-family" key={family.name}>
            <div className="cdpwe-family-name" style={{ "--cdpwe-family": family.colour }}>
              {family.name}
            </div>
            {family.actions.map((action) => (
              <div
                key={action.id}
                className={`cdpwe-palette-item${docs && docs.id === action.id ? " active" : ""}`}
                data-testid={`palette-${action.id}`}
                style={{ "--cdpwe-family": family.colour }}
                draggable={!readOnly}
                tabIndex={0}
                role="button"
                title={`${action.description || ""}\n(drag onto the canvas, or double-click / Enter to add)`}
                onDragStart={(e) => {
                  e.dataTransfer.setData("application/x-cdp-action", action.id);
                  e.dataTransfer.setData("text/plain", action.id);
                  e.dataTransfer.effectAllowed = "move";
                }}
                onClick={() => setDocs({ ...action, colour: family.colour })}
                onDoubleClick={() => {
                  if (readOnly) return;
                  setDocs(null);
                  onAdd(action.id);
                }}
                onKeyDown={(e) => {
                  if (e.key === "Enter" && !readOnly) {
                    e.preventDefault();
                    setDocs(null);
                    onAdd(action.id);
                  } else if (e.key === "Escape") {
                    setDocs(null);
                  }
                }}
              >
                <span className="cdpwe-palette-name">{action.name}</span>
                <span className="cdpwe-palette-desc">{action.description}</span>
                {action.plugin ? (
                  <span className="cdpwe-palette-plugin" data-testid={`palette-plugin-${action.id}`}>
                    plugin {action.plugin.package} {action.plugin.version}
                  </span>
                ) : null}
              </div>
            ))}
          </div>
        ))}
        {!families.length ? <p className="cdpwe-muted">No action matches “{query}”.</p> : null}
      </div>
      {docs ? (
        <div className="cdpwe-docs" data-testid="palette-docs" style={{ "--cdpwe-family": docs.colour }}>
          <div className="cdpwe-docs-head">
            <strong>{docs.name}</strong>
            <button type="button" className="cdpwe-icon-btn" title="Close" onClick={() => setDocs(null)}>
              ×
            </button>
          </div>
          <div className="cdpwe-docs-body">
            <p>{docs.description}</p>
            {docs.plugin ? (
              <p className="cdpwe-muted" data-testid="palette-docs-plugin">
                From the plugin package {docs.plugin.package} {docs.plugin.version}.
              </p>
            ) : null}
            <p className="cdpwe-muted">
              Inputs: {(docs.inputs || []).join(", ") || "none"} · Outputs: {(docs.outputs || []).join(", ") || "none"}
            </p>
            {docs.docs_html ? <div dangerouslySetInnerHTML={{ __html: docs.docs_html }} /> : null}
            {!readOnly ? (
              <button
                type="button"
                className="button"
                onClick={() => {
                  onAdd(docs.id);
                  setDocs(null);
                }}
              >
                Add to the canvas
              </button>
            ) : null}
          </div>
        </div>
      ) : null}
    </aside>
  );
}

function Pre({ value }) {
  if (value === undefined) return <span className="cdpwe-muted">(not recorded)</span>;
  return <pre className="cdpwe-pre">{JSON.stringify(value, null, 2)}</pre>;
}

export function RunDetails({ run, node }) {
  if (!run) return null;
  return (
    <div className="cdpwe-run-details" data-testid="run-details">
      <h3>In the run</h3>
      {run.entries.map((entry, i) => (
        <div key={i} className="cdpwe-run-entry">
          <div>
            <strong>{entry.in_port || "start"}</strong> → <strong>{entry.port || "(ended)"}</strong> ·{" "}
            {typeof entry.duration_ms === "number" ? entry.duration_ms.toFixed(3) : "?"} ms
          </div>
          {entry.error ? <p className="errornote">{entry.error}</p> : null}
          {(entry.messages || []).map((m, j) => (
            <div key={j} className="cdpwe-muted">
              {m.level ? `${m.level}: ` : ""}
              {m.message || JSON.stringify(m)}
            </div>
          ))}
          <details open>
            <summary>Input</summary>
            <Pre value={entry.input} />
          </details>
          <details open>
            <summary>Output</summary>
            <Pre value={entry.output} />
          </details>
        </div>
      ))}
      {!run.entries.length ? <p className="cdpwe-muted">{node} did not run.</p> : null}
    </div>
  );
}

export function NodePanel({ node, action, problems, run, readOnly, onConfig, onName, onDebug, check }) {
  const raw = node.data.raw;
  const spec = nodeSpec(raw);
  const unavailable = !!(raw.data || {}).unavailable;
  return (
    <div className="cdpwe-node-panel" data-testid="node-panel">
      <div className="cdpwe-field">
        <label htmlFor="cdpwe-node-name">Node name</label>
        <input
          id="cdpwe-node-name"
          type="text"
          data-testid="field-node-name"
          value={nodeName(raw)}
          disabled={readOnly}
          onChange={(e) => onName(e.target.value)}
        />
        <div className="help cdpwe-help">
          {action ? `${action.name} (${action.family})` : spec.className}
          {action ? ` — ${action.description}` : ""}
        </div>
      </div>
      {problems && problems.length ? (
        <ul className="errorlist cdpwe-problems" data-testid="node-panel-problems">
          {problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      ) : null}
      {run ? <RunDetails run={run} node={nodeName(raw)} /> : null}
      {unavailable || !action ? (
        <p className="cdpwe-muted">
          {unavailable
            ? `This node uses ${spec.module || ""}.${spec.className || ""}, which this CDP does not have. It is kept as it was imported; replace it with an available action before deploying.`
            : "This node names an action the catalogue does not have."}
        </p>
      ) : (
        <>
          <SchemaForm
            schema={action.schema}
            value={spec.init}
            readOnly={readOnly}
            check={check}
            onChange={onConfig}
          />
          <div className="cdpwe-field">
            <label className="cdpwe-check" htmlFor="cdpwe-debug">
              <input
                id="cdpwe-debug"
                type="checkbox"
                data-testid="field-node-debug"
                checked={!!(raw.data || {}).debug}
                disabled={readOnly}
                onChange={(e) => onDebug(e.target.checked)}
              />{" "}
              Record input and output in runs (debug)
            </label>
          </div>
          {action.docs_html ? (
            <details className="cdpwe-docs-inline">
              <summary>Documentation</summary>
              <div dangerouslySetInnerHTML={{ __html: action.docs_html }} />
            </details>
          ) : null}
        </>
      )}
    </div>
  );
}

function KeyValueRows({ rows, setRows, testid }) {
  return (
    <div className="cdpwe-rows" data-testid={testid}>
      {rows.map(([k, v], i) => (
        <div className="cdpwe-row cdpwe-map-row" key={i}>
          <input
            type="text"
            placeholder="property"
            aria-label={`property ${i + 1}`}
            data-testid={`${testid}-key-${i}`}
            value={k}
            onChange={(e) => setRows(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))}
          />
          <input
            type="text"
            placeholder="value"
            aria-label={`value ${i + 1}`}
            data-testid={`${testid}-value-${i}`}
            value={v}
            onChange={(e) => setRows(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))}
          />
          <button
            type="button"
            className="cdpwe-icon-btn"
            title="Remove"
            onClick={() => setRows(rows.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </div>
      ))}
      <button type="button" className="cdpwe-add-row" data-testid={`${testid}-add`} onClick={() => setRows([...rows, ["", ""]])}>
        + Add property
      </button>
    </div>
  );
}

function literal(text) {
  const t = text.trim();
  if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if (t === "true") return true;
  if (t === "false") return false;
  return text;
}

export function TestRunPanel({ api, onRun, result, busy, readOnly, onClear }) {
  const [mode, setMode] = useState("stored");
  const [query, setQuery] = useState("");
  const [events, setEvents] = useState(null);
  const [searchError, setSearchError] = useState("");
  const [picked, setPicked] = useState(null);
  const [type, setType] = useState("purchase");
  const [profileId, setProfileId] = useState("");
  const [rows, setRows] = useState([
    ["plan", "pro"],
    ["price", "49"],
  ]);
  const [advanced, setAdvanced] = useState("");
  const [advancedError, setAdvancedError] = useState("");
  const [profileLess, setProfileLess] = useState(false);

  useEffect(() => {
    if (mode !== "stored") return undefined;
    let live = true;
    const timer = setTimeout(() => {
      api
        .events(query.trim())
        .then((answer) => {
          if (!live) return;
          setEvents(answer.events || []);
          setSearchError("");
        })
        .catch((error) => live && setSearchError(error.message));
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, query, mode]);

  const run = () => {
    const body = { profile_less: profileLess };
    if (mode === "stored") {
      if (!picked) return;
      body.event_id = picked.id;
    } else {
      const sample = { type: type.trim(), properties: {} };
      for (const [k, v] of rows) if (k.trim()) sample.properties[k.trim()] = literal(v);
      if (profileId.trim()) sample.profile_id = profileId.trim();
      if (advanced.trim()) {
        try {
          const extra = JSON.parse(advanced);
          if (!extra || typeof extra !== "object" || Array.isArray(extra)) throw new Error("write an object");
          Object.assign(sample, extra);
          setAdvancedError("");
        } catch (error) {
          setAdvancedError(`Advanced: ${error.message}`);
          return;
        }
      }
      body.sample = sample;
    }
    onRun(body);
  };

  return (
    <div className="cdpwe-test-run" data-testid="test-run-panel">
      <p className="cdpwe-muted">
        Saves the draft, then runs it once. Nothing is saved: profile changes are only shown,
        injected events only listed. Remote HTTP calls do go out.
      </p>
      <div className="cdpwe-tabs-inline" role="tablist">
        <button type="button" className={mode === "stored" ? "active" : ""} data-testid="test-run-mode-stored" onClick={() => setMode("stored")}>
          Stored event
        </button>
        <button type="button" className={mode === "sample" ? "active" : ""} data-testid="test-run-mode-sample" onClick={() => setMode("sample")}>
          Sample event
        </button>
      </div>
      {mode === "stored" ? (
        <div>
          <input
            type="search"
            className="cdpwe-search"
            placeholder="Event id, profile id or event type"
            data-testid="test-run-search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
          {searchError ? <div className="cdpwe-field-error">{searchError}</div> : null}
          <ul className="cdpwe-event-list" data-testid="test-run-events">
            {(events || []).map((event) => (
              <li key={event.id}>
                <button
                  type="button"
                  className={picked && picked.id === event.id ? "active" : ""}
                  data-testid={`test-run-event-${event.id}`}
                  onClick={() => setPicked(event)}
                >
                  <strong>{event.type}</strong> <span className="cdpwe-muted">{(event.time || "").replace("T", " ").slice(0, 19)}</span>
                  <br />
                  <small>{event.summary || event.id}</small>
                </button>
              </li>
            ))}
            {events && !events.length ? <li className="cdpwe-muted">No events found.</li> : null}
          </ul>
          {picked ? (
            <p>
              Picked: <code>{picked.id}</code>
            </p>
          ) : null}
        </div>
      ) : (
        <div>
          <div className="cdpwe-field">
            <label htmlFor="cdpwe-sample-type">Event type</label>
            <input id="cdpwe-sample-type" type="text" data-testid="test-run-sample-type" value={type} onChange={(e) => setType(e.target.value)} />
          </div>
          <div className="cdpwe-field">
            <label>Properties</label>
            <KeyValueRows rows={rows} setRows={setRows} testid="test-run-sample-props" />
            <div className="help cdpwe-help">Numbers and true/false are sent as such.</div>
          </div>
          <div className="cdpwe-field">
            <label htmlFor="cdpwe-sample-profile">Profile id (optional, a stored profile)</label>
            <input id="cdpwe-sample-profile" type="text" data-testid="test-run-sample-profile" value={profileId} onChange={(e) => setProfileId(e.target.value)} />
          </div>
          <details>
            <summary>Advanced: other event fields</summary>
            <textarea
              rows={4}
              className="cdpwe-code"
              data-testid="test-run-sample-advanced"
              placeholder='{"context": {"page": {"url": "https://…"}}}'
              value={advanced}
              onChange={(e) => setAdvanced(e.target.value)}
            />
            {advancedError ? <div className="cdpwe-field-error">{advancedError}</div> : null}
          </details>
        </div>
      )}
      <div className="cdpwe-field">
        <label className="cdpwe-check" htmlFor="cdpwe-profile-less">
          <input id="cdpwe-profile-less" type="checkbox" data-testid="test-run-profile-less" checked={profileLess} onChange={(e) => setProfileLess(e.target.checked)} />{" "}
          Without a profile
        </label>
      </div>
      <button
        type="button"
        className="button default"
        data-testid="btn-run-test"
        disabled={busy || readOnly || (mode === "stored" && !picked)}
        onClick={run}
      >
        {busy ? "Running…" : "Save draft and run"}
      </button>
      {result ? (
        <div className="cdpwe-test-result" data-testid="test-run-result">
          <h3 className={result.status === "ok" ? "ok" : "error"}>
            {result.status === "ok" ? "Completed" : "Error"}
            {typeof result.duration_ms === "number" ? ` in ${result.duration_ms.toFixed(2)} ms` : ""}
          </h3>
          {result.error ? <p className="errornote">{result.error}</p> : null}
          {result.profile_note ? <p className="cdpwe-muted">{result.profile_note}</p> : null}
          {result.changed_fields && result.changed_fields.length ? (
            <>
              <div>Profile fields changed:</div>
              <ul>
                {result.changed_fields.map((f) => (
                  <li key={f}>
                    <code>{f}</code>
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <div className="cdpwe-muted">No profile field changed.</div>
          )}
          {result.response && Object.keys(result.response).length ? (
            <div data-testid="test-run-response" style={{ marginTop: "0.75em" }}>
              <div>Response to the page (when its rule answers in the request):</div>
              <pre className="cdpwe-pre">{JSON.stringify(result.response, null, 2)}</pre>
            </div>
          ) : (
            <div className="cdpwe-muted" style={{ marginTop: "0.75em" }}>
              No response to the page.
            </div>
          )}
          {result.ux && result.ux.length ? (
            <details data-testid="test-run-ux">
              <summary>{result.ux.length} widget(s) for the page</summary>
              <pre className="cdpwe-pre">{JSON.stringify(result.ux, null, 2)}</pre>
            </details>
          ) : null}
          {result.injected && result.injected.length ? (
            <details>
              <summary>{result.injected.length} injected event(s)</summary>
              <pre className="cdpwe-pre">{JSON.stringify(result.injected, null, 2)}</pre>
            </details>
          ) : null}
          <p className="cdpwe-muted">Click a node on the canvas to see its input and output.</p>
          <button type="button" className="button" onClick={onClear}>
            Clear the run from the canvas
          </button>
        </div>
      ) : null}
    </div>
  );
}

export function RulesPanel({ rules, sources, eventTypes, onAdd, readOnly }) {
  const [eventType, setEventType] = useState("");
  const [source, setSource] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setError("");
    try {
      await onAdd({ event_type: eventType.trim(), source_id: source || null, ...(name.trim() ? { name: name.trim() } : {}) });
      setEventType("");
      setName("");
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="cdpwe-rules" data-testid="rules-panel">
      <h3>Events that start this workflow</h3>
      {rules.length ? (
        <ul className="cdpwe-rule-list" data-testid="rules-list">
          {rules.map((rule) => (
            <li key={rule.id}>
              <a href={rule.admin_url}>{rule.name || rule.event_type}</a>: <code>{rule.event_type}</code> from{" "}
              {rule.source_name || (rule.source_id ? rule.source_id : "any source")}
              {rule.enabled === false ? <em> (disabled)</em> : null}
            </li>
          ))}
        </ul>
      ) : (
        <p className="cdpwe-muted">No rule routes events here yet: the workflow never runs.</p>
      )}
      {!readOnly ? (
        <div className="cdpwe-rule-form">
          <h3>Add a rule</h3>
          <div className="cdpwe-field">
            <label htmlFor="cdpwe-rule-type">Event type</label>
            <input
              id="cdpwe-rule-type"
              type="text"
              list="cdpwe-event-types"
              data-testid="rule-event-type"
              value={eventType}
              onChange={(e) => setEventType(e.target.value)}
            />
            <datalist id="cdpwe-event-types">
              {eventTypes.map((t) => (
                <option key={t} value={t} />
              ))}
            </datalist>
          </div>
          <div className="cdpwe-field">
            <label htmlFor="cdpwe-rule-source">Source</label>
            <select id="cdpwe-rule-source" data-testid="rule-source" value={source} onChange={(e) => setSource(e.target.value)}>
              <option value="">any source</option>
              {sources.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </div>
          <div className="cdpwe-field">
            <label htmlFor="cdpwe-rule-name">Name (optional)</label>
            <input id="cdpwe-rule-name" type="text" data-testid="rule-name" value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          {error ? <div className="cdpwe-field-error" role="alert">{error}</div> : null}
          <button type="button" className="button" data-testid="btn-add-rule" disabled={busy || !eventType.trim()} onClick={submit}>
            Add rule
          </button>
        </div>
      ) : null}
    </div>
  );
}
