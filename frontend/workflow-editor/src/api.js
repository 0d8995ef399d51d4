// JSON calls to the editor endpoints (see EDITOR_CONTRACT.md). Errors are thrown as ApiError
// carrying the server's `detail` (and the rest of its answer).

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `The server answered ${status}.`);
    this.status = status;
    this.body = body || {};
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

async function request(method, url, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") init.headers["X-CSRFToken"] = csrfToken();
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ApiError(0, { detail: `The server cannot be reached (${error.message}).` });
  }
  let data = null;
  const text = await response.text();
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { detail: `The server answered ${response.status} without JSON.` };
    if (response.ok) throw new ApiError(response.status, data);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export function makeApi(base, workflowId) {
  const b = base.endsWith("/") ? base : base + "/";
  const w = `${b}${encodeURIComponent(workflowId)}/editor/`;
  return {
    exportUrl: `${w}export/`,
    load: () => request("GET", w),
    catalogue: () => request("GET", `${b}editor/catalogue/`),
    notation: (kind, text) => request("POST", `${b}editor/notation/`, { kind, text }),
    validate: (graph) => request("POST", `${w}validate/`, { graph }),
    save: (graph, revision) => request("POST", `${w}save/`, { graph, revision }),
    deploy: (revision) => request("POST", `${w}deploy/`, { revision }),
    revert: (revision) => request("POST", `${w}revert/`, { revision }),
    testRun: (body) => request("POST", `${w}test-run/`, body),
    events: (q) => request("GET", `${b}editor/events/?q=${encodeURIComponent(q)}`),
    run: (runId) => request("GET", `${b}editor/runs/${encodeURIComponent(runId)}/`),
    addRule: (body) => request("POST", `${w}rules/`, body),
    importFlow: (file, revision) => {
      const form = new FormData();
      form.append("file", file);
      form.append("revision", String(revision));
      return request("POST", `${w}import/`, form);
    },
  };
}
