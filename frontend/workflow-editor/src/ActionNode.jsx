// A node on the canvas: the action's name and family colour, its ports by name, problems and
// the result of a run.
import { memo } from "react";
import { Handle, Position } from "@xyflow/react";
import { nodeName, nodeSpec } from "./graph.js";

function fmtMs(ms) {
  if (typeof ms !== "number") return "";
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`;
}

function ActionNode({ id, data, selected }) {
  const { raw, action, problems, run, unavailable } = data;
  const spec = nodeSpec(raw);
  const inputs = action && !unavailable ? action.inputs : spec.inputs || [];
  const outputs = action && !unavailable ? action.outputs : spec.outputs || [];
  const name = nodeName(raw) || (action ? action.name : spec.className || "node");
  const colour = unavailable ? "#888" : (action && action.colour) || "#777";
  const classes = ["cdpwe-node"];
  if (selected) classes.push("selected");
  if (problems && problems.length) classes.push("invalid");
  if (unavailable) classes.push("unavailable");
  if (run) classes.push(run.error ? "run-error" : "ran");
  if (data.dimmed) classes.push("dimmed");
  const rows = Math.max(inputs.length, outputs.length, 1);
  const lastEntry = run && run.entries[run.entries.length - 1];
  const ports = run ? [...new Set(run.entries.map((e) => e.port).filter(Boolean))] : [];
  return (
    <div
      className={classes.join(" ")}
      data-testid={`node-${id}`}
      style={{ "--cdpwe-family": colour }}
      title={problems && problems.length ? problems.join("\n") : undefined}
    >
      <div className="cdpwe-node-head">
        <span className="cdpwe-node-name">{name}</span>
        {problems && problems.length ? (
          <span className="cdpwe-node-problem" data-testid={`node-problem-${id}`} title={problems.join("\n")}>
            !
          </span>
        ) : null}
      </div>
      <div className="cdpwe-node-sub">
        {unavailable ? (
          <span className="cdpwe-unavailable">not available · {spec.className || spec.module}</span>
        ) : action ? (
          action.name === name ? action.family : `${action.name} · ${action.family}`
        ) : (
          spec.className || "unknown action"
        )}
      </div>
      <div className="cdpwe-node-ports">
        {Array.from({ length: rows }).map((_, i) => (
          <div className="cdpwe-port-row" key={i}>
            <div className="cdpwe-port cdpwe-port-in">
              {inputs[i] !== undefined ? (
                <>
                  <Handle
                    type="target"
                    position={Position.Left}
                    id={inputs[i]}
                    data-testid={`handle-${id}-in-${inputs[i]}`}
                    title={`input: ${inputs[i]}`}
                    className={run && run.entries.some((e) => e.in_port === inputs[i]) ? "port-taken" : ""}
                  />
                  <span>{inputs[i]}</span>
                </>
              ) : null}
            </div>
            <div className="cdpwe-port cdpwe-port-out">
              {outputs[i] !== undefined ? (
                <>
                  <span className={ports.includes(outputs[i]) ? "port-taken" : ""}>{outputs[i]}</span>
                  <Handle
                    type="source"
                    position={Position.Right}
                    id={outputs[i]}
                    data-testid={`handle-${id}-out-${outputs[i]}`}
                    title={`output: ${outputs[i]}`}
                    className={ports.includes(outputs[i]) ? "port-taken" : ""}
                  />
                </>
              ) : null}
            </div>
          </div>
        ))}
      </div>
      {run ? (
        <div className={`cdpwe-run-badge${run.error ? " error" : ""}`} data-testid={`run-badge-${id}`}>
          {run.error
            ? `error · ${fmtMs(run.duration)}`
            : `${ports.length ? "→ " + ports.join(", ") : "ended"} · ${fmtMs(run.duration)}`}
          {run.entries.length > 1 ? ` · ×${run.entries.length}` : ""}
        </div>
      ) : null}
      {run && lastEntry && run.error ? <div className="cdpwe-run-error">{run.error}</div> : null}
    </div>
  );
}

export default memo(ActionNode);
