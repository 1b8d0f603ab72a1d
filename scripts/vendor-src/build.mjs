//! Builds static/vendor from the packages npm installed (run by scripts/vendor-assets).
//!
//! Usage: node build.mjs <output dir>, run from a copy of scripts/vendor-src
//! where npm installed node_modules and code-editor.js was copied beside it.
//! Writes codemirror/, excalidraw/, pyodide/, LICENSES/ and VERSIONS into the
//! (empty) output dir; the shell script adds SOURCES and SHA256SUMS. Same
//! inputs give the same bytes: esbuild names chunks by content, and every list
//! written here is sorted.

import { build } from "esbuild";
import fs from "node:fs";
import path from "node:path";

const out = path.resolve(process.argv[2]);
const work = path.dirname(new URL(import.meta.url).pathname);
const modules = path.join(work, "node_modules");
const licenseFallbacks = path.join(work, "licenses");

const common = {
  absWorkingDir: work,
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2022",
  platform: "browser",
  legalComments: "none", // the texts are in LICENSES/ instead
  define: { "process.env.NODE_ENV": '"production"' },
  conditions: ["production"],
  metafile: true,
  logLevel: "warning",
};

// Edits to Excalidraw's published code, each needed to keep every request on
// our server and the page's CSP strict. Each must match exactly as often as
// stated for the pinned version; a new version that changed the code fails
// the build here instead of misbehaving in the browser.
const PATCHES = [
  {
    why: "a font missing here would be fetched from esm.sh: fall back to the bundle's own directory",
    find: /`https:\/\/esm\.sh\/\$\{([\w$]+)\.PKG_NAME\?`\$\{\1\.PKG_NAME\}@\$\{\1\.PKG_VERSION\}`:"@excalidraw\/excalidraw"\}\/dist\/prod\/`/g,
    replace: () => 'new URL("./",import.meta.url).href',
    times: 1,
  },
  {
    why: "Xiaolai (CJK) is left out: mark it a local font, as Excalidraw does for emoji, so CJK text uses the system's fonts instead of requesting files that are not there",
    find: /(\[[\w$]+\.Xiaolai\]:\{metrics:\{[^{}]*\},fallback:!0)\}/g,
    replace: (_, metadata) => `${metadata},local:!0}`,
    times: 1,
  },
  {
    why: "the font subsetter's Emscripten glue names functions with new Function, which needs 'unsafe-eval'",
    find: /new Function\("body",`return function \$\{([\w$]+)\}\(\) \{\n    "use strict";    return body\.apply\(this, arguments\);\n\};\n`\)\(([\w$]+)\)/g,
    replace: (_, name, body) => `Object.defineProperty(function(){return ${body}.apply(this,arguments)},"name",{value:${name}})`,
    times: 1,
  },
  {
    why: "the same glue builds dynCall wrappers with new Function",
    find: /new Function\("dynCall","rawFunction",[\w$]+\)\(([\w$]+),([\w$]+)\)/g,
    replace: (_, dynCall, rawFunction) => `((d,r)=>function(...a){return d(r,...a)})(${dynCall},${rawFunction})`,
    times: 1,
  },
  {
    why: "the same glue compiles each bound function's invoker with Function(); build the same invoker as a closure",
    find: /function ([\w$]+)\(([\w$]+),([\w$]+),([\w$]+),([\w$]+),([\w$]+)\)\{let [\w$]+=\3\.length;[\s\S]*?,([\w$]+)=\[([\w$]+),\5,\6,([\w$]+),\3\[0\],\3\[1\]\];[\s\S]*?[\w$]+\(Function,[\w$]+\)\.apply\(null,\7\)\}/g,
    replace: (_, fn, name, types, classType, invoker, target, _values, throwBindingError, runDestructors) =>
      `function ${fn}(${name},${types},${classType},${invoker},${target}){` +
      `${types}.length<2&&${throwBindingError}("argTypes array size mismatch! Must at least get return value and 'this' types!");` +
      `const isMethod=${types}[1]!==null&&${classType}!==null,` +
      `needsDestructors=${types}.slice(1).some(t=>t!==null&&t.destructorFunction===void 0),` +
      `returns=${types}[0].name!=="void",expected=${types}.length-2;` +
      `return function(...args){` +
      `args.length!==expected&&${throwBindingError}("function "+${name}+" called with "+args.length+" arguments, expected "+expected+" args!");` +
      `const destructors=needsDestructors?[]:null,wired=[];` +
      `isMethod&&wired.push(${types}[1].toWireType(destructors,this));` +
      `for(let i=0;i<expected;++i)wired.push(${types}[i+2].toWireType(destructors,args[i]));` +
      `const rv=${invoker}(${target},...wired);` +
      `if(needsDestructors)${runDestructors}(destructors);` +
      `else for(let i=isMethod?1:2;i<${types}.length;++i){const d=${types}[i].destructorFunction;d!==null&&d(wired[isMethod?i-1:i-2])}` +
      `if(returns)return ${types}[0].fromWireType(rv)}}`,
    times: 1,
  },
  {
    why: "SVG export sets a style attribute, which a CSP without 'unsafe-inline' refuses; the CSSOM property is allowed",
    find: /([\w$]+)\.setAttribute\("style","white-space: pre;"\)/g,
    replace: (_, element) => `${element}.style.whiteSpace="pre"`,
    times: 1,
  },
];
const patchCounts = PATCHES.map(() => 0);
const patchExcalidraw = {
  name: "patch-excalidraw",
  setup(b) {
    b.onLoad({ filter: /@excalidraw[\\/]excalidraw[\\/]dist[\\/]prod[\\/].*\.js$/ }, async (args) => {
      let text = await fs.promises.readFile(args.path, "utf8");
      PATCHES.forEach((patch, i) => {
        text = text.replace(patch.find, (...match) => {
          patchCounts[i]++;
          return patch.replace(...match);
        });
      });
      return { contents: text, loader: "js" };
    });
  },
};

const codemirror = await build({
  ...common,
  entryPoints: { "code-editor": path.join(work, "code-editor.js") },
  outdir: path.join(out, "codemirror"),
});

const excalidraw = await build({
  ...common,
  entryPoints: { excalidraw: path.join(work, "excalidraw.js") },
  outdir: path.join(out, "excalidraw"),
  splitting: true,
  chunkNames: "chunk-[hash]",
  alias: { "@excalidraw/mermaid-to-excalidraw": path.join(work, "mermaid-stub.js") },
  plugins: [patchExcalidraw],
});
PATCHES.forEach((patch, i) => {
  if (patchCounts[i] !== patch.times) {
    throw new Error(`patch matched ${patchCounts[i]} times, expected ${patch.times}: ${patch.why}`);
  }
});

// Excalidraw's stylesheet and fonts sit beside the bundle, where its CSS
// (url("./fonts/…")) and EXCALIDRAW_ASSET_PATH expect them. Left out (see
// licenses/@excalidraw__excalidraw.txt): Xiaolai, 13 MB of CJK glyphs (such
// text falls back to the system's fonts), and Liberation Sans 1.05, used only
// by Excalidraw's server-side export, whose licence terms the file does not carry.
const LEFT_OUT_FONTS = new Set(["Xiaolai", "Liberation"]);
const excalidrawDist = path.join(modules, "@excalidraw/excalidraw/dist/prod");
fs.copyFileSync(path.join(excalidrawDist, "index.css"), path.join(out, "excalidraw/index.css"));
fs.cpSync(path.join(excalidrawDist, "fonts"), path.join(out, "excalidraw/fonts"), {
  recursive: true,
  filter: (src) => !LEFT_OUT_FONTS.has(path.basename(src)),
});

// Pyodide's core, unmodified: the interpreter, the standard library and the
// lock file loadPyodide reads (no other package of it is served).
const pyodideFiles = ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"];
fs.mkdirSync(path.join(out, "pyodide"));
for (const file of pyodideFiles) {
  fs.copyFileSync(path.join(modules, "pyodide", file), path.join(out, "pyodide", file));
}

// Every package whose code or files are shipped: those esbuild read a file of,
// plus the ones copied whole.
const packageDirs = new Set([path.join(modules, "pyodide"), path.join(modules, "@excalidraw/excalidraw")]);
for (const result of [codemirror, excalidraw]) {
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
    if (match) packageDirs.add(path.join(work, match[1]));
  }
}

const LICENSE_FILE = /^(licen[cs]e|copying|notice)([.-].*)?$/i;
const byId = new Map();
for (const dir of packageDirs) {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const pkg = { dir, name: manifest.name, version: manifest.version, license: manifest.license ?? "(none stated)" };
  byId.set(`${pkg.name}@${pkg.version}`, pkg); // npm may install one version in several places
}
const packages = [...byId.values()]
  .sort((a, b) => (a.name === b.name ? a.version.localeCompare(b.version) : a.name < b.name ? -1 : 1));

fs.mkdirSync(path.join(out, "LICENSES"));
const missing = [];
for (const pkg of packages) {
  const id = `${pkg.name}@${pkg.version}`;
  const texts = fs
    .readdirSync(pkg.dir)
    .filter((file) => LICENSE_FILE.test(file))
    .sort()
    .map((file) => ({ from: `${pkg.name}/${file} (npm package)`, text: fs.readFileSync(path.join(pkg.dir, file), "utf8") }));
  // Packages published without their licence file: the text from the
  // project's repository, kept in scripts/vendor-src/licenses/ under the
  // package's name or, for a family of packages, its npm scope.
  const fallback = [pkg.name.replace("/", "__"), pkg.name.split("/")[0]]
    .map((name) => path.join(licenseFallbacks, `${name}.txt`))
    .find((file) => fs.existsSync(file));
  if (fallback) {
    texts.push({ from: `scripts/vendor-src/licenses/${path.basename(fallback)} (the project's repository)`, text: fs.readFileSync(fallback, "utf8") });
  }
  if (texts.length === 0) {
    missing.push(id);
    continue;
  }
  const body = texts.map(({ from, text }) => `---- ${from} ----\n\n${text.trimEnd()}\n`).join("\n");
  fs.writeFileSync(
    path.join(out, "LICENSES", `${pkg.name.replace("/", "__")}@${pkg.version}.txt`),
    `${id}\nLicense: ${pkg.license}\n\n${body}`,
  );
}
if (missing.length) {
  throw new Error(`no licence text for ${missing.join(", ")}: add scripts/vendor-src/licenses/<name>.txt`);
}

fs.writeFileSync(path.join(out, "VERSIONS"), packages.map((pkg) => `${pkg.name}@${pkg.version}\n`).join(""));
