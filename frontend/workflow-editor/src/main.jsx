import { createRoot } from "react-dom/client";
import "@xyflow/react/dist/style.css";
import "./editor.css";
import App from "./App.jsx";
import { makeApi } from "./api.js";

function mount(element) {
  const { workflowId, baseUrl, canChange } = element.dataset;
  const params = new URLSearchParams(window.location.search);
  const runId = params.get("run");
  const api = makeApi(baseUrl, workflowId);
  createRoot(element).render(<App api={api} runId={runId} draftUrl={window.location.pathname} canChange={canChange !== "false"} />);
}

function start() {
  document.querySelectorAll("[data-cdp-workflow-editor]").forEach(mount);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
