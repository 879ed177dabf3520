// Builds the client into dist/ (or the directory given, as bench/web.py does): one minified
// bundle, the page and its stylesheet. config.json is not built: the server that hosts dist/
// writes it (local/web.py, or docs/deploy.md's step for the S3 bucket).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";

const outdir = process.argv[2] ?? "dist";
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ["es2022"],
  format: "esm",
  outfile: `${outdir}/app.js`,
  logLevel: "warning",
});
for (const file of ["index.html", "style.css"]) copyFileSync(file, `${outdir}/${file}`);
