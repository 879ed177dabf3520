// Builds the client into dist/: one minified bundle, the page and its stylesheet.
// config.json is not built: the server that hosts dist/ writes it (local/web.py, or
// docs/deploy.md's step for the S3 bucket).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");
await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ["es2022"],
  format: "esm",
  outfile: "dist/app.js",
  logLevel: "warning",
});
for (const file of ["index.html", "style.css"]) copyFileSync(file, `dist/${file}`);
