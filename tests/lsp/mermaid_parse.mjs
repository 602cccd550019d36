// Parse Mermaid flowcharts with Mermaid itself (the library GitHub renders markdown diagrams with)
// and print what it understood: vertices with their text and shape, edges with their ends and text.
// stdin: a JSON list of diagram texts. stdout: a JSON list of results, one per diagram.
// Mermaid needs a DOM for its sanitizer, so it runs under jsdom.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const texts = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const results = [];
for (const text of texts) {
  try {
    const parsed = await mermaid.parse(text);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const db = diagram.db;
    const vertices = {};
    for (const [id, v] of db.getVertices()) vertices[id] = { text: v.text, type: v.type, classes: v.classes };
    const edges = db.getEdges().map((e) => ({ start: e.start, end: e.end, text: e.text, type: e.type }));
    results.push({ ok: true, type: parsed.diagramType, vertices, edges });
  } catch (err) {
    results.push({ ok: false, error: String((err && err.message) || err) });
  }
}
process.stdout.write(JSON.stringify(results));
