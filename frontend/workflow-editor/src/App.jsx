// The workflow editor: canvas, palette, node config, toolbar, test runs and rules.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  addEdge,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
} from "@xyflow/react";
import ActionNode from "./ActionNode.jsx";
import { NodePanel, Palette, RulesPanel, RunDetails, TestRunPanel } from "./panels.jsx";
import {
  catalogueIndex,
  edgeId,
  fromGraph,
  isStartNode,
  newNodeFromAction,
  nodeName,
  toFlowNode,
  toGraph,
  uuid,
} from "./graph.js";

const NODE_TYPES = { action: ActionNode };
const GRID = [15, 15];
const HISTORY_LIMIT = 100;

function strip(list) {
  return list.map(({ selected, dragging, ...rest }) => rest); // eslint-disable-line no-unused-vars
}

function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function problemsByNode(problems) {
  const map = new Map();
  for (const p of problems || []) {
    if (!p.node_id) continue;
    if (!map.has(p.node_id)) map.set(p.node_id, []);
    map.get(p.node_id).push(p.message);
  }
  return map;
}

function runByNode(log) {
  const map = new Map();
  for (const entry of log || []) {
    if (!map.has(entry.node)) map.set(entry.node, { entries: [], duration: 0, error: "" });
    const r = map.get(entry.node);
    r.entries.push(entry);
    r.duration += typeof entry.duration_ms === "number" ? entry.duration_ms : 0;
    if (entry.error) r.error = entry.error;
  }
  return map;
}

function isTyping(target) {
  if (!target || !target.tagName) return false;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}

function colorMode() {
  const theme = document.documentElement.dataset.theme;
  return theme === "dark" || theme === "light" ? theme : "system";
}

// Near `at`, a place where a new node does not cover another one.
function freeSpot(nodes, at) {
  const boxes = nodes.map((n) => ({
    x: n.position.x,
    y: n.position.y,
    w: (n.measured && n.measured.width) || 180,
    h: (n.measured && n.measured.height) || 80,
  }));
  const gap = 40;
  const free = (p) =>
    boxes.every((b) => p.x + 180 + gap < b.x || p.x > b.x + b.w + gap || p.y + 80 + gap < b.y || p.y > b.y + b.h + gap);
  for (let ring = 0; ring < 12; ring += 1) {
    for (const [dx, dy] of [[0, 1], [1, 0], [0, -1], [-1, 0], [1, 1], [-1, 1], [1, -1], [-1, -1]]) {
      const p = { x: at.x + dx * ring * 110, y: at.y + dy * ring * 70 };
      if (free(p)) return p;
    }
  }
  return at;
}

function RunSummary({ run, note }) {
  return (
    <aside className="cdpwe-palette cdpwe-run-summary" data-testid="run-summary">
      <div className="cdpwe-side-body">
        <h3>Run {run.id}</h3>
        <dl>
          <dt>Status</dt>
          <dd className={run.status === "ok" ? "ok" : "error"}>{run.status === "ok" ? "completed" : run.status}</dd>
          <dt>Started</dt>
          <dd>{fmtTime(run.started)}</dd>
          <dt>Duration</dt>
          <dd>{typeof run.duration_ms === "number" ? `${run.duration_ms.toFixed(2)} ms` : "?"}</dd>
          <dt>Version</dt>
          <dd>{run.workflow_version}</dd>
          <dt>Event</dt>
          <dd>
            {run.event_type} <small>{run.event_ref}</small>
          </dd>
          <dt>Profile</dt>
          <dd>{run.profile_id || "none"}</dd>
        </dl>
        {run.error ? <p className="errornote">{run.error}</p> : null}
        {note ? <p className="cdpwe-muted">{note}</p> : null}
      </div>
    </aside>
  );
}

function Editor({ api, runId, draftUrl, canChange }) {
  const flow = useReactFlow();
  const rootRef = useRef(null);
  const canvasRef = useRef(null);
  const [cat, setCat] = useState(null);
  const [nodes, setNodes] = useState([]);
  const [edges, setEdges] = useState([]);
  const [extra, setExtra] = useState({});
  const [loadError, setLoadError] = useState("");
  const [info, setInfo] = useState(null); // load response (minus graphs)
  const [revision, setRevision] = useState(null);
  const [savedJSON, setSavedJSON] = useState(null);
  const [problems, setProblems] = useState([]);
  const [banner, setBanner] = useState(null);
  const [tab, setTab] = useState("node");
  const [result, setResult] = useState(null); // test run answer, or a past run
  const [pastRun, setPastRun] = useState(null);
  const [runNote, setRunNote] = useState("");
  const [busy, setBusy] = useState("");
  const [rules, setRules] = useState([]);
  const [fullscreen, setFullscreen] = useState(false);
  const [, setHistoryTick] = useState(0);
  const runMode = !!runId;
  // A past run, or a person who may view but not change workflows: nothing to edit.
  const readOnly = runMode || !canChange;
  // The admin's theme toggle sets <html data-theme>: follow it.
  const [mode, setMode] = useState(colorMode);
  useEffect(() => {
    const observer = new MutationObserver(() => setMode(colorMode()));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    return () => observer.disconnect();
  }, []);

  const history = useRef({ past: [], future: [], lastKey: "", lastAt: 0 });
  const state = useRef({});
  state.current = { nodes, edges, extra, revision, savedJSON, busy };

  const graph = useMemo(() => toGraph(nodes, edges, extra), [nodes, edges, extra]);
  const graphJSON = useMemo(() => JSON.stringify(graph), [graph]);
  const dirty = savedJSON !== null && graphJSON !== savedJSON && !readOnly;
  const dirtyRef = useRef(false);
  dirtyRef.current = dirty;
  const submitting = useRef(false);

  // ---- loading ---------------------------------------------------------------------------
  const flowRef = useRef(flow);
  flowRef.current = flow;
  useEffect(() => {
    const flow = flowRef.current;
    let live = true;
    (async () => {
      try {
        const catalogue = await api.catalogue();
        if (!live) return;
        setCat(catalogueIndex(catalogue));
        if (runId) {
          const answer = await api.run(runId);
          if (!live) return;
          const g = fromGraph(answer.graph);
          setNodes(g.nodes);
          setEdges(g.edges);
          setExtra(g.extra);
          setPastRun(answer.run);
          setRunNote(answer.note || "");
          setResult({ ...answer.run, past: true });
          setSavedJSON(JSON.stringify(toGraph(g.nodes, g.edges, g.extra)));
          setTimeout(() => flow.fitView({ padding: 0.2 }), 50);
          return;
        }
        const answer = await api.load();
        if (!live) return;
        const g = fromGraph(answer.draft);
        const index = catalogueIndex(catalogue);
        setSavedJSON(JSON.stringify(toGraph(g.nodes, g.edges, g.extra)));
        if (!g.nodes.some((n) => isStartNode(n.data.raw))) {
          const start = index.byId.get("start");
          if (start) g.nodes.unshift(toFlowNode(newNodeFromAction(start, { x: 60, y: 120 })));
        }
        setNodes(g.nodes);
        setEdges(g.edges);
        setExtra(g.extra);
        setRevision(answer.revision);
        setProblems(answer.problems || []);
        setRules(answer.rules || []);
        setInfo(answer);
        setTimeout(() => flow.fitView({ padding: 0.2, maxZoom: 1 }), 50);
      } catch (error) {
        if (live) setLoadError(error.message);
      }
    })();
    return () => {
      live = false;
    };
  }, [api, runId]);

  // ---- history ---------------------------------------------------------------------------
  const record = useCallback((key) => {
    const h = history.current;
    const now = Date.now();
    if (key && key === h.lastKey && now - h.lastAt < 1500) {
      h.lastAt = now;
      return;
    }
    h.lastKey = key || "";
    h.lastAt = now;
    h.past.push({ nodes: strip(state.current.nodes), edges: strip(state.current.edges) });
    if (h.past.length > HISTORY_LIMIT) h.past.shift();
    h.future = [];
    setHistoryTick((t) => t + 1);
  }, []);

  const undo = useCallback(() => {
    const h = history.current;
    if (!h.past.length) return;
    h.future.push({ nodes: strip(state.current.nodes), edges: strip(state.current.edges) });
    const prev = h.past.pop();
    h.lastKey = "";
    setNodes(prev.nodes);
    setEdges(prev.edges);
    setHistoryTick((t) => t + 1);
  }, []);

  const redo = useCallback(() => {
    const h = history.current;
    if (!h.future.length) return;
    h.past.push({ nodes: strip(state.current.nodes), edges: strip(state.current.edges) });
    const next = h.future.pop();
    h.lastKey = "";
    setNodes(next.nodes);
    setEdges(next.edges);
    setHistoryTick((t) => t + 1);
  }, []);

  // ---- canvas changes --------------------------------------------------------------------
  const onNodesChange = useCallback(
    (changes) => {
      const effective = readOnly ? changes.filter((c) => c.type === "select" || c.type === "dimensions") : changes;
      setNodes((ns) => applyNodeChanges(effective, ns));
    },
    [readOnly],
  );
  const onEdgesChange = useCallback(
    (changes) => {
      const effective = readOnly ? changes.filter((c) => c.type === "select") : changes;
      setEdges((es) => applyEdgeChanges(effective, es));
    },
    [readOnly],
  );
  const onConnect = useCallback(
    (params) => {
      if (readOnly) return;
      record();
      const id = edgeId(params.source, params.sourceHandle, params.target, params.targetHandle);
      setEdges((es) =>
        es.some((e) => e.id === id)
          ? es
          : addEdge(
              {
                id,
                source: params.source,
                target: params.target,
                sourceHandle: params.sourceHandle,
                targetHandle: params.targetHandle,
                data: { raw: { id, type: "default" } },
              },
              es,
            ),
      );
    },
    [readOnly, record],
  );
  const onBeforeDelete = useCallback(
    async ({ nodes: ns, edges: es }) => {
      if (readOnly) return false;
      const keep = ns.filter((n) => !isStartNode(n.data.raw));
      if (!keep.length && !es.length) return false;
      record();
      return { nodes: keep, edges: es };
    },
    [readOnly, record],
  );
  const deleteSelected = useCallback(() => {
    const ns = state.current.nodes.filter((n) => n.selected && !isStartNode(n.data.raw));
    const es = state.current.edges.filter((e) => e.selected);
    if (ns.length || es.length) flow.deleteElements({ nodes: ns, edges: es });
  }, [flow]);

  const addAction = useCallback(
    (actionId, position) => {
      if (readOnly || !cat) return;
      const action = cat.byId.get(actionId);
      if (!action) return;
      if (action.id === "start" && state.current.nodes.some((n) => isStartNode(n.data.raw))) {
        setBanner({ kind: "error", text: "A workflow has exactly one start node." });
        return;
      }
      let at = position;
      if (!at) {
        const rect = canvasRef.current.getBoundingClientRect();
        at = freeSpot(state.current.nodes, flow.screenToFlowPosition({ x: rect.left + rect.width / 2 - 85, y: rect.top + rect.height / 2 - 40 }));
      }
      at = { x: Math.round(at.x / GRID[0]) * GRID[0], y: Math.round(at.y / GRID[1]) * GRID[1] };
      record();
      const node = { ...toFlowNode(newNodeFromAction(action, at)), selected: true };
      setNodes((ns) => [...ns.map((n) => (n.selected ? { ...n, selected: false } : n)), node]);
      setEdges((es) => es.map((e) => (e.selected ? { ...e, selected: false } : e)));
      setTab("node");
    },
    [cat, flow, readOnly, record],
  );

  const onDragOver = useCallback((e) => {
    if (e.dataTransfer.types.includes("application/x-cdp-action")) {
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
    }
  }, []);
  const onDrop = useCallback(
    (e) => {
      const id = e.dataTransfer.getData("application/x-cdp-action");
      if (!id) return;
      e.preventDefault();
      // The node's head under the pointer.
      const at = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addAction(id, { x: at.x - 85, y: at.y - 15 });
    },
    [addAction, flow],
  );

  const updateRaw = useCallback(
    (id, key, fn) => {
      record(`${id}:${key}`);
      setNodes((ns) => ns.map((n) => (n.id === id ? { ...n, data: { ...n.data, raw: fn(n.data.raw) } } : n)));
    },
    [record],
  );

  // ---- clipboard -------------------------------------------------------------------------
  const clipboard = useRef(null);
  const copy = useCallback(() => {
    const picked = state.current.nodes.filter((n) => n.selected && !isStartNode(n.data.raw));
    if (!picked.length) return false;
    const ids = new Set(picked.map((n) => n.id));
    clipboard.current = {
      nodes: JSON.parse(JSON.stringify(picked.map((n) => ({ raw: n.data.raw, position: n.position, id: n.id })))),
      edges: JSON.parse(JSON.stringify(state.current.edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => e.data.raw && { ...e.data.raw, source: e.source, target: e.target, sourceHandle: e.sourceHandle, targetHandle: e.targetHandle }))),
      pastes: 0,
    };
    return true;
  }, []);
  const paste = useCallback(() => {
    const clip = clipboard.current;
    if (!clip || readOnly) return;
    clip.pastes += 1;
    const offset = 30 * clip.pastes;
    const ids = new Map(clip.nodes.map((n) => [n.id, uuid()]));
    const fresh = clip.nodes.map((n) => ({
      ...toFlowNode({ ...JSON.parse(JSON.stringify(n.raw)), id: ids.get(n.id), position: { x: n.position.x + offset, y: n.position.y + offset } }),
      selected: true,
    }));
    const freshEdges = clip.edges.map((e) => {
      const source = ids.get(e.source);
      const target = ids.get(e.target);
      const id = edgeId(source, e.sourceHandle, target, e.targetHandle);
      return { id, source, target, sourceHandle: e.sourceHandle, targetHandle: e.targetHandle, data: { raw: { ...e, id, source, target } } };
    });
    record();
    setNodes((ns) => [...ns.map((n) => (n.selected ? { ...n, selected: false } : n)), ...fresh]);
    setEdges((es) => [...es.map((e) => (e.selected ? { ...e, selected: false } : e)), ...freshEdges]);
  }, [readOnly, record]);

  // ---- keyboard --------------------------------------------------------------------------
  useEffect(() => {
    const onKey = (e) => {
      if (isTyping(e.target)) return;
      const root = rootRef.current;
      const active = document.activeElement;
      if (root && active && active !== document.body && !root.contains(active)) return;
      const mod = e.ctrlKey || e.metaKey;
      if (!mod) return;
      const key = e.key.toLowerCase();
      if (key === "z" && !e.shiftKey) {
        e.preventDefault();
        if (!readOnly) undo();
      } else if ((key === "z" && e.shiftKey) || key === "y") {
        e.preventDefault();
        if (!readOnly) redo();
      } else if (key === "c") {
        // Text selected on the page (docs, run data) is copied as text.
        const text = window.getSelection ? String(window.getSelection()) : "";
        if (!text && copy()) e.preventDefault();
      } else if (key === "v") {
        if (clipboard.current && !readOnly) {
          e.preventDefault();
          paste();
        }
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [undo, redo, copy, paste, readOnly]);

  // The editor sits inside the admin's form: Enter in its fields must not submit that form.
  useEffect(() => {
    const root = rootRef.current;
    if (!root) return undefined;
    const onKey = (e) => {
      if (e.key === "Enter" && e.target.tagName === "INPUT") e.preventDefault();
    };
    root.addEventListener("keydown", onKey);
    return () => root.removeEventListener("keydown", onKey);
  }, []);

  // ---- validation while editing ------------------------------------------------------------
  const validated = useRef(null);
  useEffect(() => {
    if (readOnly || savedJSON === null) return undefined;
    // The problems shown are those of the saved draft until the first edit.
    if (validated.current === null) validated.current = savedJSON;
    if (validated.current === graphJSON) return undefined;
    const timer = setTimeout(() => {
      validated.current = graphJSON;
      api
        .validate(JSON.parse(graphJSON))
        .then((answer) => {
          if (validated.current === graphJSON) setProblems(answer.problems || []);
        })
        .catch(() => {});
    }, 700);
    return () => clearTimeout(timer);
  }, [api, graphJSON, savedJSON, readOnly]);

  // ---- server actions --------------------------------------------------------------------
  const who = useMemo(() => {
    const el = document.querySelector("#user-tools strong");
    return el ? el.textContent.trim() : "you";
  }, []);

  const save = useCallback(async () => {
    const sent = toGraph(state.current.nodes, state.current.edges, state.current.extra);
    const sentJSON = JSON.stringify(sent);
    setBusy("save");
    try {
      const answer = await api.save(sent, state.current.revision);
      setRevision(answer.revision);
      setProblems(answer.problems || []);
      validated.current = sentJSON;
      setSavedJSON(sentJSON);
      setInfo((old) => ({ ...old, draft_saved: new Date().toISOString(), draft_saved_by: who, draft_differs: answer.draft_differs, deployable: answer.deployable }));
      const count = (answer.problems || []).length;
      setBanner(
        count
          ? { kind: "warning", text: `Draft saved, with ${count} problem${count > 1 ? "s" : ""} to fix before deploying.` }
          : { kind: "success", text: "Draft saved." },
      );
      return true;
    } catch (error) {
      if (error.body && error.body.problems) setProblems(error.body.problems);
      setBanner({ kind: "error", text: error.message });
      return false;
    } finally {
      setBusy("");
    }
  }, [api, who]);

  const saveIfDirty = useCallback(async () => {
    const current = JSON.stringify(toGraph(state.current.nodes, state.current.edges, state.current.extra));
    if (current === state.current.savedJSON) return true;
    return save();
  }, [save]);

  const deploy = useCallback(async () => {
    if (!(await saveIfDirty())) return;
    setBusy("deploy");
    try {
      const answer = await api.deploy(state.current.revision);
      setInfo((old) => ({ ...old, deployed_version: answer.version, deployed_at: answer.deployed_at, draft_differs: false }));
      setProblems([]);
      setBanner({ kind: "success", text: `Deployed as version ${answer.version}: new events run this graph.` });
    } catch (error) {
      if (error.body && error.body.problems) setProblems(error.body.problems);
      setBanner({ kind: "error", text: error.message });
    } finally {
      setBusy("");
    }
  }, [api, saveIfDirty]);

  const loadGraph = useCallback(
    (g, answer) => {
      record();
      const parsed = fromGraph(g);
      setNodes(parsed.nodes);
      setEdges(parsed.edges);
      setExtra(parsed.extra);
      const json = JSON.stringify(toGraph(parsed.nodes, parsed.edges, parsed.extra));
      validated.current = json;
      setSavedJSON(json);
      setRevision(answer.revision);
      setProblems(answer.problems || []);
      setTimeout(() => flow.fitView({ padding: 0.2, maxZoom: 1 }), 50);
    },
    [flow, record],
  );

  const revert = useCallback(async () => {
    const version = info && info.deployed_version;
    if (!window.confirm(`Replace the draft with the deployed graph (version ${version})? Changes in the draft are lost.`)) return;
    setBusy("revert");
    try {
      const answer = await api.revert(state.current.revision);
      loadGraph(answer.graph, answer);
      setInfo((old) => ({ ...old, draft_differs: false, draft_saved: new Date().toISOString(), draft_saved_by: who }));
      setBanner({ kind: "success", text: `The draft is the deployed graph (version ${version}) again.` });
    } catch (error) {
      setBanner({ kind: "error", text: error.message });
    } finally {
      setBusy("");
    }
  }, [api, info, loadGraph, who]);

  const importFile = useCallback(
    async (file) => {
      if (!file) return;
      if (dirtyRef.current && !window.confirm("Importing replaces the draft, and your unsaved changes. Go on?")) return;
      setBusy("import");
      try {
        const answer = await api.importFlow(file, state.current.revision);
        loadGraph(answer.graph, answer);
        setInfo((old) => ({ ...old, draft_differs: true, draft_saved: new Date().toISOString(), draft_saved_by: who }));
        setBanner({ kind: (answer.notes || []).length ? "warning" : "success", text: `Imported ${file.name}.`, notes: answer.notes || [] });
      } catch (error) {
        setBanner({ kind: "error", text: error.message });
      } finally {
        setBusy("");
      }
    },
    [api, loadGraph, who],
  );

  const testRun = useCallback(
    async (body) => {
      if (!(await saveIfDirty())) return;
      setBusy("test");
      try {
        const answer = await api.testRun(body);
        setResult(answer);
        setBanner(
          answer.status === "ok"
            ? { kind: "success", text: `Test run completed in ${Number(answer.duration_ms || 0).toFixed(2)} ms.` }
            : { kind: "error", text: `Test run failed: ${answer.error}` },
        );
      } catch (error) {
        if (error.body && error.body.problems) setProblems(error.body.problems);
        setBanner({ kind: "error", text: error.message });
      } finally {
        setBusy("");
      }
    },
    [api, saveIfDirty],
  );

  const addRule = useCallback(
    async (body) => {
      const answer = await api.addRule(body);
      setRules((old) => [...old, answer.rule]);
      setBanner({ kind: "success", text: `Rule added: ${answer.rule.event_type} events now start this workflow.` });
    },
    [api],
  );

  // ---- leaving the page, and the admin form's own Save ------------------------------------
  useEffect(() => {
    if (readOnly) return undefined;
    const onBeforeUnload = (e) => {
      if (dirtyRef.current && !submitting.current) {
        e.preventDefault();
        e.returnValue = "";
      }
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    const form = rootRef.current && rootRef.current.closest("form");
    const onSubmit = (e) => {
      if (submitting.current) return;
      if (!dirtyRef.current) {
        submitting.current = true;
        return;
      }
      e.preventDefault();
      const submitter = e.submitter;
      save().then((ok) => {
        if (!ok) {
          rootRef.current.scrollIntoView({ behavior: "smooth", block: "start" });
          return;
        }
        submitting.current = true;
        if (submitter && form.requestSubmit) form.requestSubmit(submitter);
        else form.submit();
      });
    };
    if (form) form.addEventListener("submit", onSubmit);
    return () => {
      window.removeEventListener("beforeunload", onBeforeUnload);
      if (form) form.removeEventListener("submit", onSubmit);
    };
  }, [readOnly, save]);

  // ---- what the canvas shows ---------------------------------------------------------------
  const byNode = useMemo(() => problemsByNode(problems), [problems]);
  const runs = useMemo(() => (result ? runByNode(result.log) : null), [result]);
  const viewNodes = useMemo(() => {
    if (!cat) return [];
    return nodes.map((n) => {
      const raw = n.data.raw;
      const action = cat.forNode(raw);
      const unavailable = !!(raw.data || {}).unavailable || !action;
      return {
        ...n,
        data: {
          ...n.data,
          action,
          unavailable,
          problems: byNode.get(n.id),
          run: runs ? runs.get(n.id) : undefined,
          dimmed: runs ? !runs.has(n.id) : false,
        },
      };
    });
  }, [nodes, cat, byNode, runs]);
  const viewEdges = useMemo(() => {
    if (!runs) return edges;
    return edges.map((e) => {
      const from = runs.get(e.source);
      const to = runs.get(e.target);
      const taken =
        from && to && from.entries.some((x) => x.port === e.sourceHandle) && to.entries.some((x) => !x.in_port || x.in_port === e.targetHandle);
      return taken ? { ...e, animated: true, className: "cdpwe-edge-taken", label: e.sourceHandle } : { ...e, className: "cdpwe-edge-idle" };
    });
  }, [edges, runs]);

  const selected = nodes.filter((n) => n.selected);
  const selectedNode = selected.length === 1 ? selected[0] : null;
  const hasStart = nodes.some((n) => isStartNode(n.data.raw));
  const canUndo = history.current.past.length > 0;
  const canRedo = history.current.future.length > 0;
  const graphProblems = problems.filter((p) => !p.node_id);

  if (loadError) {
    return (
      <div className="cdpwe-root" ref={rootRef}>
        <p className="errornote" data-testid="editor-banner">
          The editor could not load: {loadError}
        </p>
      </div>
    );
  }

  const status = [];
  if (!runMode && info) {
    status.push(
      dirty
        ? "Unsaved changes"
        : info.draft_saved
          ? `Draft saved ${fmtTime(info.draft_saved)}${info.draft_saved_by ? ` by ${info.draft_saved_by}` : ""}`
          : `Draft revision ${revision}`,
    );
    status.push(
      info.deployed_version
        ? `Deployed: version ${info.deployed_version}${info.deployed_at ? ` (${fmtTime(info.deployed_at)})` : ""}`
        : "Never deployed",
    );
    if (info.deployed_version && (dirty || info.draft_differs)) status.push("draft differs from deployed");
    status.push(problems.length ? `${problems.length} problem${problems.length > 1 ? "s" : ""}` : "no problems");
    if (!canChange) status.push("view only: changing workflows needs the permission to");
  }

  return (
    <div className={`cdpwe-root${fullscreen ? " cdpwe-fullscreen" : ""}${readOnly ? " cdpwe-readonly" : ""}`} ref={rootRef}>
      <div className="cdpwe-toolbar" role="toolbar" aria-label="Workflow editor">
        {!readOnly ? (
          <>
            <button type="button" className="button" data-testid="btn-undo" title="Undo (Ctrl+Z)" disabled={!canUndo} onClick={undo}>
              ↶ Undo
            </button>
            <button type="button" className="button" data-testid="btn-redo" title="Redo (Ctrl+Shift+Z / Ctrl+Y)" disabled={!canRedo} onClick={redo}>
              ↷ Redo
            </button>
            <button type="button" className="button" data-testid="btn-delete" title="Delete the selection (Delete / Backspace)" onClick={deleteSelected}>
              Delete
            </button>
          </>
        ) : null}
        <button type="button" className="button" data-testid="btn-fit" title="Fit the graph to the screen" onClick={() => flow.fitView({ padding: 0.2 })}>
          Fit
        </button>
        <button type="button" className="button" data-testid="btn-fullscreen" title="Full screen" onClick={() => setFullscreen((f) => !f)}>
          {fullscreen ? "Exit full screen" : "Full screen"}
        </button>
        <span className="cdpwe-spacer" />
        {!runMode ? (
          <>
            <button type="button" className="button" data-testid="btn-test-run" onClick={() => setTab("test")}>
              Test run
            </button>
            <a className="button" data-testid="btn-export" href={api.exportUrl} title="Download the draft as a Tracardi flow">
              Export
            </a>
          </>
        ) : null}
        {!readOnly ? (
          <>
            <label className="button cdpwe-file" data-testid="btn-import" title="Replace the draft with a Tracardi flow file">
              Import Tracardi flow
              <input type="file" accept=".json,application/json" data-testid="import-file" onChange={(e) => { importFile(e.target.files[0]); e.target.value = ""; }} />
            </label>
            <button
              type="button"
              className="button"
              data-testid="btn-revert"
              disabled={!info || !info.deployed_version || !!busy}
              title="Replace the draft with the deployed graph"
              onClick={revert}
            >
              Revert to deployed
            </button>
            <button type="button" className="button" data-testid="btn-save" disabled={!!busy} onClick={save}>
              {busy === "save" ? "Saving…" : "Save draft"}
            </button>
            <button type="button" className="button default" data-testid="btn-deploy" disabled={!!busy} onClick={deploy}>
              {busy === "deploy" ? "Deploying…" : "Deploy"}
            </button>
          </>
        ) : null}
      </div>
      <div className="cdpwe-status" data-testid="editor-status" aria-live="polite">
        {readOnly && pastRun ? `Run ${pastRun.id} · ${pastRun.status} · ${fmtTime(pastRun.started)}` : status.join(" · ")}
      </div>
      {readOnly && pastRun ? (
        <div className="cdpwe-banner info" data-testid="editor-banner">
          Run {pastRun.id} of version {pastRun.workflow_version}
          {pastRun.event_type ? ` (${pastRun.event_type} event)` : ""} — <a href={draftUrl}>back to the draft</a>
        </div>
      ) : banner ? (
        <div className={`cdpwe-banner ${banner.kind}`} data-testid="editor-banner" role="status">
          <div className="cdpwe-banner-text">
            {banner.text}
            {banner.notes && banner.notes.length ? (
              <ul>
                {banner.notes.map((note, i) => (
                  <li key={i}>{note}</li>
                ))}
              </ul>
            ) : null}
          </div>
          <button type="button" className="cdpwe-icon-btn" title="Dismiss" onClick={() => setBanner(null)}>
            ×
          </button>
        </div>
      ) : null}
      <div className="cdpwe-body">
        {readOnly && pastRun ? (
          <RunSummary run={pastRun} note={runNote} />
        ) : cat ? (
          <Palette cat={cat} hasStart={hasStart} onAdd={(id) => addAction(id)} readOnly={readOnly} />
        ) : (
          <aside className="cdpwe-palette">Loading…</aside>
        )}
        <div className="cdpwe-canvas" ref={canvasRef} onDragOver={onDragOver} onDrop={onDrop} data-testid="editor-canvas">
          <ReactFlow
            nodes={viewNodes}
            edges={viewEdges}
            nodeTypes={NODE_TYPES}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onBeforeDelete={onBeforeDelete}
            onNodeDragStart={() => record()}
            onSelectionDragStart={() => record()}
            isValidConnection={(c) => c.source !== c.target}
            nodesDraggable={!readOnly}
            nodesConnectable={!readOnly}
            deleteKeyCode={readOnly ? null : ["Delete", "Backspace"]}
            multiSelectionKeyCode={["Control", "Meta"]}
            selectionKeyCode="Shift"
            snapToGrid
            snapGrid={GRID}
            minZoom={0.2}
            maxZoom={2}
            colorMode={mode}
            defaultEdgeOptions={{ type: "default" }}
            onNodeClick={() => setTab("node")}
            proOptions={{ hideAttribution: true }}
          >
            <Background gap={GRID} size={1} />
            <Controls showInteractive={false} />
            <MiniMap pannable zoomable style={{ width: 160, height: 110 }} nodeColor={(n) => (n.data.unavailable ? "#999" : (n.data.action && n.data.action.colour) || "#888")} />
          </ReactFlow>
        </div>
        <aside className="cdpwe-side">
          <div className="cdpwe-tabs" role="tablist">
            <button type="button" role="tab" className={tab === "node" ? "active" : ""} data-testid="tab-node" onClick={() => setTab("node")}>
              Node
            </button>
            {!runMode ? (
              <>
                <button type="button" role="tab" className={tab === "test" ? "active" : ""} data-testid="tab-test" onClick={() => setTab("test")}>
                  Test run
                </button>
                <button type="button" role="tab" className={tab === "rules" ? "active" : ""} data-testid="tab-rules" onClick={() => setTab("rules")}>
                  Rules ({rules.length})
                </button>
              </>
            ) : null}
          </div>
          <div className="cdpwe-side-body">
            {tab === "node" || runMode ? (
              selectedNode && cat ? (
                <NodePanel
                  key={selectedNode.id}
                  node={selectedNode}
                  action={cat.forNode(selectedNode.data.raw)}
                  problems={byNode.get(selectedNode.id)}
                  run={runs ? runs.get(selectedNode.id) || { entries: [] } : null}
                  readOnly={readOnly}
                  check={api.notation}
                  onName={(name) =>
                    updateRaw(selectedNode.id, "name", (raw) => ({
                      ...raw,
                      data: { ...raw.data, metadata: { ...((raw.data || {}).metadata || {}), name } },
                    }))
                  }
                  onDebug={(debug) => updateRaw(selectedNode.id, "debug", (raw) => ({ ...raw, data: { ...raw.data, debug } }))}
                  onConfig={(init) =>
                    updateRaw(selectedNode.id, "config", (raw) => ({
                      ...raw,
                      data: { ...raw.data, spec: { ...((raw.data || {}).spec || {}), init } },
                    }))
                  }
                />
              ) : (
                <div className="cdpwe-hint">
                  {selected.length > 1 ? (
                    <p>{selected.length} nodes selected. Drag to move them, Delete to remove, Ctrl+C / Ctrl+V to copy.</p>
                  ) : runMode ? (
                    <p>Click a node to see its input and output in this run.</p>
                  ) : readOnly ? (
                    <p>Click a node to see its settings.</p>
                  ) : (
                    <p>
                      Drag an action from the left onto the canvas, then connect an output port (right side of a node) to an input
                      port (left side). Click a node to set it up.
                    </p>
                  )}
                  {readOnly && result && result.error ? <p className="errornote">{result.error}</p> : null}
                  {graphProblems.length ? (
                    <ul className="errorlist" data-testid="graph-problems">
                      {graphProblems.map((p, i) => (
                        <li key={i}>{p.message}</li>
                      ))}
                    </ul>
                  ) : null}
                  {problems.length - graphProblems.length > 0 ? (
                    <>
                      <p>Nodes with problems (marked red):</p>
                      <ul className="cdpwe-problem-nodes">
                        {[...byNode.entries()].map(([id, messages]) => {
                          const node = nodes.find((n) => n.id === id);
                          return (
                            <li key={id}>
                              <button
                                type="button"
                                className="cdpwe-link"
                                onClick={() => {
                                  setNodes((ns) => ns.map((n) => ({ ...n, selected: n.id === id })));
                                  if (node) flow.setCenter(node.position.x + 90, node.position.y + 40, { zoom: 1, duration: 300 });
                                }}
                              >
                                {node ? nodeName(node.data.raw) || id : id}
                              </button>
                              : {messages.join("; ")}
                            </li>
                          );
                        })}
                      </ul>
                    </>
                  ) : null}
                </div>
              )
            ) : null}
            {tab === "test" && !runMode ? (
              <TestRunPanel api={api} onRun={testRun} result={result} busy={busy === "test"} readOnly={runMode} onClear={() => setResult(null)} />
            ) : null}
            {tab === "rules" && !runMode && info ? (
              <RulesPanel rules={rules} sources={info.sources || []} eventTypes={info.event_types || []} onAdd={addRule} readOnly={readOnly} />
            ) : null}
          </div>
        </aside>
      </div>
    </div>
  );
}

export default function App(props) {
  return (
    <ReactFlowProvider>
      <Editor {...props} />
    </ReactFlowProvider>
  );
}
