import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";

// One IIFE bundle + one CSS file in the Django static folder (committed): nothing is fetched
// at run time.
export default defineConfig({
  plugins: [react()],
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: fileURLToPath(new URL("../../static/workflows/editor", import.meta.url)),
    emptyOutDir: true,
    cssCodeSplit: false,
    sourcemap: false,
    minify: true,
    lib: {
      entry: fileURLToPath(new URL("./src/main.jsx", import.meta.url)),
      name: "CdpWorkflowEditor",
      formats: ["iife"],
      fileName: () => "editor.js",
      cssFileName: "editor",
    },
  },
});
