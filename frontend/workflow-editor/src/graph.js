// The graph JSON (Tracardi's shape) <-> React Flow's nodes and edges. Every node and edge keeps
// the object it was read from (`raw`), so keys the editor does not know survive a round trip.

export function uuid() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function edgeId(source, sourceHandle, target, targetHandle) {
  return `reactflow__edge-${source}${sourceHandle}-${target}${targetHandle}`;
}

export function isStartNode(raw) {
  const data = raw.data || {};
  return raw.type === "startNode" || data.start === true;
}

export function toFlowNode(raw) {
  const position = raw.position && typeof raw.position === "object" ? raw.position : {};
  const node = {
    id: String(raw.id),
    type: "action",
    position: { x: Number(position.x) || 0, y: Number(position.y) || 0 },
    data: { raw },
  };
  if (isStartNode(raw)) node.deletable = false;
  return node;
}

export function toFlowEdge(raw) {
  return {
    id: String(raw.id || edgeId(raw.source, raw.sourceHandle, raw.target, raw.targetHandle)),
    source: String(raw.source),
    target: String(raw.target),
    sourceHandle: raw.sourceHandle == null ? null : String(raw.sourceHandle),
    targetHandle: raw.targetHandle == null ? null : String(raw.targetHandle),
    data: { raw },
  };
}

export function fromGraph(graph) {
  const g = graph && typeof graph === "object" ? graph : {};
  const nodes = Array.isArray(g.nodes) ? g.nodes.filter((n) => n && n.id != null) : [];
  const edges = Array.isArray(g.edges) ? g.edges.filter((e) => e && e.source != null) : [];
  return { nodes: nodes.map(toFlowNode), edges: edges.map(toFlowEdge), extra: g };
}

// `extra` is the graph object as loaded: its other keys are kept too.
export function toGraph(nodes, edges, extra) {
  const graph = { ...(extra || {}) };
  graph.nodes = nodes.map((node) => ({
    ...node.data.raw,
    id: node.id,
    position: { ...(node.data.raw.position || {}), x: round(node.position.x), y: round(node.position.y) },
  }));
  graph.edges = edges.map((edge) => {
    const raw = { ...edge.data.raw, id: edge.id, source: edge.source, target: edge.target };
    raw.sourceHandle = edge.sourceHandle;
    raw.targetHandle = edge.targetHandle;
    return raw;
  });
  return graph;
}

function round(value) {
  return Math.round(value * 100) / 100;
}

export function nodeSpec(raw) {
  const data = raw.data || {};
  return data.spec && typeof data.spec === "object" ? data.spec : {};
}

export function nodeName(raw) {
  const metadata = (raw.data || {}).metadata || {};
  return typeof metadata.name === "string" ? metadata.name : "";
}

// A catalogue index: the action of a node by (module, className), else by className.
export function catalogueIndex(catalogue) {
  const byId = new Map();
  const byPath = new Map();
  const byClass = new Map();
  const families = (catalogue && catalogue.families) || [];
  for (const family of families) {
    for (const action of family.actions || []) {
      const entry = { ...action, colour: family.colour, family: family.name };
      byId.set(action.id, entry);
      const spec = action.spec || {};
      byPath.set(`${spec.module}|${spec.className}`, entry);
      if (!byClass.has(spec.className)) byClass.set(spec.className, entry);
    }
  }
  return {
    families,
    byId,
    forNode(raw) {
      const spec = nodeSpec(raw);
      return byPath.get(`${spec.module}|${spec.className}`) || byClass.get(spec.className) || null;
    },
  };
}

export function newNodeFromAction(action, position) {
  const spec = JSON.parse(JSON.stringify(action.spec || {}));
  const isStart = action.id === "start";
  return {
    id: uuid(),
    type: isStart ? "startNode" : "flowNode",
    position,
    data: {
      start: isStart,
      debug: false,
      spec,
      metadata: { name: action.name, desc: action.description || "" },
    },
  };
}
